"""A local HTTP origin on 127.0.0.1 that serves fixtures and misbehaves on purpose.

Routes are registered per path. Each route answers with a status, headers and a body, and
can be told to: honour conditional GET (ETag / Last-Modified), wait before answering, drip
its body a few bytes at a time, redirect, reset the connection, send a truncated body, or
run any callable; drip its status line and headers, or send a chunked body (from bytes or an
endless generator, optionally cut before the last chunk). Every request is logged, so tests
can count fetches, see when they came (``times``) and how many of one path (or of all
paths: ``peak_total``) were being answered at once (``peak_inflight``).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    drip: float | None = None  # seconds between body bytes
    drip_chunk: int = 1
    reset: bool = False  # close the socket without answering
    truncate_to: int | None = None  # announce full length, send only this many bytes
    chunked: bool = False  # Transfer-Encoding: chunked, no Content-Length
    stream: Callable[[], Iterable[bytes]] | None = None  # body made on the fly (chunked)
    header_drip: float | None = None  # seconds between bytes of the status line and headers


@dataclass
class Route:
    response: Response | Callable[[BaseHTTPRequestHandler], Response]
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    at: float


class Origin:
    """Start with ``with Origin() as origin:``; ``origin.url("/x")`` gives absolute URLs."""

    def __init__(self, *, poll_interval: float = 0.5, host: str = "127.0.0.1") -> None:
        self.poll_interval = poll_interval  # how fast shutdown() returns
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.inflight: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.total_inflight = 0
        self.total_peak = 0
        self._lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                origin._serve(self)

            def do_HEAD(self) -> None:
                origin._serve(self)

        self.host = host  # another loopback address (127.0.0.2 ...) is another site
        self._server = _QuietServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(poll_interval,), daemon=True
        )

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> Origin:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    # -- configuration ---------------------------------------------------------------
    def add(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        content_type: str | None = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        **behaviour: object,
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        hdrs = dict(headers or {})
        if content_type and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = content_type
        resp = Response(status=status, body=data, headers=hdrs, **behaviour)  # type: ignore[arg-type]
        with self._lock:
            self.routes[path] = Route(resp, etag=etag, last_modified=last_modified)

    def add_handler(self, path: str, fn: Callable[[BaseHTTPRequestHandler], Response]) -> None:
        with self._lock:
            self.routes[path] = Route(fn)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.add(path, status=status, content_type=None, headers={"Location": location})

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for h in self.hits if h.path == path)

    def times(self, path: str) -> list[float]:
        """When each request for ``path`` arrived (``time.monotonic()``), in order."""
        with self._lock:
            return [h.at for h in self.hits if h.path == path]

    def inflight_now(self, paths: Iterable[str]) -> int:
        """How many requests for these paths are being answered right now."""
        with self._lock:
            return sum(self.inflight.get(p, 0) for p in paths)

    def peak_inflight(self, path: str) -> int:
        """The most requests for ``path`` that were being answered at the same time."""
        with self._lock:
            return self.peak.get(path, 0)

    def peak_total(self) -> int:
        """The most requests (any path) that were being answered at the same time."""
        with self._lock:
            return self.total_peak

    # -- serving ---------------------------------------------------------------------
    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path
        with self._lock:
            self.hits.append(Hit(path, dict(req.headers.items()), time.monotonic()))
            self.inflight[path] = self.inflight.get(path, 0) + 1
            self.peak[path] = max(self.peak.get(path, 0), self.inflight[path])
            self.total_inflight += 1
            self.total_peak = max(self.total_peak, self.total_inflight)
        try:
            self._answer(req, path)
        finally:
            with self._lock:
                self.inflight[path] -= 1
                self.total_inflight -= 1

    def _answer(self, req: BaseHTTPRequestHandler, path: str) -> None:
        with self._lock:
            route = self.routes.get(path) or self.routes.get(path.split("?", 1)[0])
        if route is None:
            self._write(req, Response(status=404, body=b"not found"))
            return
        if route.etag and req.headers.get("If-None-Match") == route.etag:
            self._write(req, Response(status=304, headers={"ETag": route.etag}))
            return
        if route.last_modified and req.headers.get("If-Modified-Since") == route.last_modified:
            self._write(req, Response(status=304))
            return
        resp = route.response(req) if callable(route.response) else route.response
        extra = {}
        if route.etag:
            extra["ETag"] = route.etag
        if route.last_modified:
            extra["Last-Modified"] = route.last_modified
        if extra:
            resp = Response(**{**resp.__dict__, "headers": {**resp.headers, **extra}})
        self._write(req, resp)

    @staticmethod
    def _write(req: BaseHTTPRequestHandler, resp: Response) -> None:
        with contextlib.suppress(OSError):
            if resp.delay:
                time.sleep(resp.delay)
            if resp.reset:
                req.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                req.close_connection = True
                return
            if resp.header_drip is not None:
                Origin._drip_head(req, resp)
                return
            req.send_response(resp.status)
            for name, value in resp.headers.items():
                req.send_header(name, value)
            if resp.chunked or resp.stream is not None:
                req.send_header("Transfer-Encoding", "chunked")
            else:
                req.send_header("Content-Length", str(len(resp.body)))
            req.end_headers()
            if req.command == "HEAD":
                return
            if resp.chunked or resp.stream is not None:
                Origin._write_chunked(req, resp)
                return
            Origin._write_body(req, resp)

    @staticmethod
    def _drip_head(req: BaseHTTPRequestHandler, resp: Response) -> None:
        lines = [
            f"HTTP/1.1 {resp.status} X",
            *(f"{k}: {v}" for k, v in resp.headers.items()),
            f"Content-Length: {len(resp.body)}",
            "",
            "",
        ]
        for byte in _chunks("\r\n".join(lines).encode(), 1):
            req.wfile.write(byte)
            req.wfile.flush()
            time.sleep(resp.header_drip or 0.0)
        req.wfile.write(resp.body)
        req.close_connection = True

    @staticmethod
    def _write_chunked(req: BaseHTTPRequestHandler, resp: Response) -> None:
        """Chunked body (``stream`` or ``body``); ``truncate_to`` drops the final chunk."""
        size = resp.drip_chunk if resp.drip is not None else 16_384
        source = resp.stream() if resp.stream is not None else _chunks(resp.body, size)
        sent = 0
        for chunk in source:
            if resp.truncate_to is not None and sent + len(chunk) > resp.truncate_to:
                chunk = chunk[: resp.truncate_to - sent]
            if chunk:
                req.wfile.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                req.wfile.flush()
            sent += len(chunk)
            if resp.truncate_to is not None and sent >= resp.truncate_to:
                req.close_connection = True
                return
            if resp.drip is not None:
                time.sleep(resp.drip)
        req.wfile.write(b"0\r\n\r\n")

    @staticmethod
    def _write_body(req: BaseHTTPRequestHandler, resp: Response) -> None:
        body = resp.body
        if resp.truncate_to is not None:
            req.wfile.write(body[: resp.truncate_to])
            req.wfile.flush()
            req.close_connection = True
            return
        if resp.drip is None:
            req.wfile.write(body)
            return
        for chunk in _chunks(body, resp.drip_chunk):
            req.wfile.write(chunk)
            req.wfile.flush()
            time.sleep(resp.drip)


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (a killed worker or poller) are expected: no traceback."""

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]
