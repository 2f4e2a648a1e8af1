"""A local WebSub hub on 127.0.0.1 for the tests: the subscriber-facing side of the spec.

``POST /`` takes a subscription request (``hub.mode``, ``hub.callback``, ``hub.topic``,
``hub.secret``, ``hub.lease_seconds``), answers 202, then verifies intent in the
background: a GET to the callback with ``hub.challenge`` (and the lease it grants,
``lease_seconds``, whatever was asked), recorded as a :class:`Verification`. A subscription
counts only when the callback echoed the challenge. ``publish`` distributes content to
the verified subscribers of a topic, signed with their secret (``X-Hub-Signature``, any of
the spec's methods, or a wrong one on purpose). ``stop_accepting`` makes it answer 503.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Verification:
    mode: str
    topic: str
    callback: str
    status: int
    echoed: bool
    at: float


@dataclass
class Subscriber:
    callback: str
    topic: str
    secret: str
    expires: float


class Hub:
    def __init__(self, *, lease_seconds: int = 3600) -> None:
        self.lease_seconds = lease_seconds
        self.requests: list[dict[str, str]] = []
        self.verifications: list[Verification] = []
        self.subscribers: dict[tuple[str, str], Subscriber] = {}
        self.accepting = True
        self._lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                status = hub._request(form)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Hub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def stop_accepting(self) -> None:
        self.accepting = False

    # -- subscriber side ---------------------------------------------------------------
    def _request(self, form: dict[str, str]) -> int:
        if not self.accepting:
            return 503
        mode, callback, topic = (form.get(k, "") for k in ("hub.mode", "hub.callback", "hub.topic"))
        if mode not in ("subscribe", "unsubscribe") or not callback or not topic:
            return 400
        with self._lock:
            self.requests.append(form)
        threading.Thread(target=self._verify, args=(form,), daemon=True).start()
        return 202

    def _verify(self, form: dict[str, str]) -> None:
        mode, callback, topic = form["hub.mode"], form["hub.callback"], form["hub.topic"]
        challenge = secrets.token_urlsafe(16)
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            query["hub.lease_seconds"] = str(self.lease_seconds)
        status, body = _get(f"{callback}?{urllib.parse.urlencode(query)}")
        echoed = status == 200 and body == challenge.encode()
        with self._lock:
            self.verifications.append(
                Verification(mode, topic, callback, status, echoed, time.monotonic())
            )
            if echoed and mode == "subscribe":
                self.subscribers[(callback, topic)] = Subscriber(
                    callback, topic, form.get("hub.secret", ""), time.time() + self.lease_seconds
                )
            elif echoed:
                self.subscribers.pop((callback, topic), None)

    def verified(self, topic: str, mode: str = "subscribe") -> int:
        with self._lock:
            return sum(
                1 for v in self.verifications if v.topic == topic and v.mode == mode and v.echoed
            )

    def verify_forged(self, callback: str, topic: str) -> int:
        """A verification GET nobody asked for (another topic): the status the callback gave."""
        query = {"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "forged"}
        return _get(f"{callback}?{urllib.parse.urlencode(query)}")[0]

    # -- publisher side ----------------------------------------------------------------
    def publish(
        self,
        topic: str,
        body: bytes,
        *,
        content_type: str = "application/rss+xml",
        method: str = "sha256",
        bad_signature: bool = False,
    ) -> list[int]:
        """Distribute ``body`` to the topic's verified subscribers; their statuses."""
        with self._lock:
            targets = [s for s in self.subscribers.values() if s.topic == topic]
        statuses = []
        for sub in targets:
            secret = "not-the-secret" if bad_signature else sub.secret
            digest = hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()
            headers = {
                "Content-Type": content_type,
                "X-Hub-Signature": f"{method}={digest}",
                "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"',
            }
            statuses.append(post(sub.callback, body, headers))
        return statuses


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), b""
    except OSError:
        return 0, b""


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0
