"""A local HTTP origin on 127.0.0.1 that serves fixtures and misbehaves on purpose.

Routes are registered per path. Each route answers with a status, headers and a body, and
can be told to: honour conditional GET (ETag / Last-Modified), wait before answering, drip
its body a few bytes at a time, redirect, reset the connection, send a truncated body, or
run any callable. Every request is logged, so tests can count fetches.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
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

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
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

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

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
        return f"http://127.0.0.1:{self.port}{path}"

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

    # -- serving ---------------------------------------------------------------------
    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path
        with self._lock:
            self.hits.append(Hit(path, dict(req.headers.items()), time.monotonic()))
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
            req.send_response(resp.status)
            for name, value in resp.headers.items():
                req.send_header(name, value)
            req.send_header("Content-Length", str(len(resp.body)))
            req.end_headers()
            if req.command == "HEAD":
                return
            Origin._write_body(req, resp)

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


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]
