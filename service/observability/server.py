"""The HTTP endpoint of every role: ``/metrics``, ``/livez`` and ``/readyz`` on one port.

- ``/livez``: 200 while the process serves HTTP (the liveness probe: restart when it fails);
- ``/readyz``: 200 when every readiness check passes, else 503 with the failing ones (Redis
  reachable; for workers also "the Celery consumer is running");
- ``/metrics``: Prometheus text format. In multiprocess mode (a Celery prefork worker) the
  values of all the worker's processes, read from ``PROMETHEUS_MULTIPROC_DIR``.

The server runs in a daemon thread of the process that owns the role (the poller; the Celery
parent process), on ``NEWSWIRE_METRICS_HOST:NEWSWIRE_METRICS_PORT``; it is off when the port
is unset. What the endpoints read from Redis is reused for ``NEWSWIRE_METRICS_CACHE_SECONDS``
(see ``recent``): any number of scrapes costs Redis one reading per that many seconds.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import redis

from service.connections import redis_client
from service.logs import get_logger
from service.observability.metrics import multiprocess_dir
from service.observability.multiproc import locked_collector
from service.observability.recent import Recent
from service.settings import Settings

if TYPE_CHECKING:
    from prometheus_client.registry import Collector, CollectorRegistry

log = get_logger("newswire.health")
Check = Callable[[], bool]


def redis_check(settings: Settings, *, timeout: float = 2.0) -> Check:
    """A readiness check: Redis answers PING within ``timeout`` seconds (the answer is
    reused for ``metrics_cache_seconds``, so probes cannot load Redis)."""
    client = redis_client(
        settings.effective_redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )

    def ping() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    return Recent(ping, settings.metrics_cache_seconds)


@dataclass
class Endpoint:
    """What the HTTP handler serves; ``checks`` may change while it runs."""

    role: str
    checks: dict[str, Check] = field(default_factory=dict)
    collectors: list[Collector] = field(default_factory=list)
    _registry: CollectorRegistry | None = None

    def readiness(self) -> tuple[bool, dict[str, str]]:
        results: dict[str, str] = {}
        for name, check in list(self.checks.items()):
            try:
                ok = check()
            except Exception:
                log.exception("readiness_check_failed", check=name)
                ok = False
            results[name] = "ok" if ok else "failing"
        return all(v == "ok" for v in results.values()), results

    def registry(self) -> CollectorRegistry:
        """The registry to scrape, built on first scrape (multiprocess mode is known then)."""
        if self._registry is None:
            from prometheus_client import REGISTRY, CollectorRegistry, ProcessCollector

            registry = CollectorRegistry()
            if (path := multiprocess_dir()) is not None:
                # every process of the worker, from files (read under the archive lock)
                locked_collector(registry, path)
                ProcessCollector(registry=registry)  # this (the parent) process
            else:
                registry.register(REGISTRY)  # a registry is a collector too
            for collector in [_BuildInfo(self.role), *self.collectors]:
                registry.register(collector)
            self._registry = registry
        return self._registry

    def metrics(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry())


class _BuildInfo:
    def __init__(self, role: str) -> None:
        self.role = role

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        info = GaugeMetricFamily(
            "newswire_build_info", "Version and role of this process.", labels=["version", "role"]
        )
        info.add_metric([_version(), self.role], 1)
        yield info


def _version() -> str:
    try:
        return version("newswire")
    except PackageNotFoundError:
        return "unknown"


def _handler(endpoint: Endpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "newswire"

        def log_message(self, format: str, *args: object) -> None:
            return  # probes every few seconds: not worth a log line

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                from prometheus_client import CONTENT_TYPE_LATEST

                self._send(200, endpoint.metrics(), CONTENT_TYPE_LATEST)
            elif path == "/livez":
                self._json(200, {"status": "ok", "role": endpoint.role})
            elif path == "/readyz":
                ready, checks = endpoint.readiness()
                self._json(
                    200 if ready else 503,
                    {
                        "status": "ok" if ready else "unavailable",
                        "role": endpoint.role,
                        "checks": checks,
                    },
                )
            else:
                self._json(404, {"status": "not found", "paths": ["/metrics", "/livez", "/readyz"]})

        def _json(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class Server:
    """A running endpoint; ``close()`` stops it."""

    def __init__(self, endpoint: Endpoint, httpd: ThreadingHTTPServer) -> None:
        self.endpoint = endpoint
        self.httpd = httpd
        self.port = int(httpd.server_address[1])
        self._thread = threading.Thread(
            target=httpd.serve_forever, name="newswire-http", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve(settings: Settings, endpoint: Endpoint) -> Server | None:
    """Start the endpoint on the configured port; ``None`` when the port is unset or taken
    (logged: a second role on one host must not die for want of a metrics port)."""
    if settings.metrics_port is None:
        return None
    try:
        httpd = ThreadingHTTPServer(
            (settings.metrics_host, settings.metrics_port), _handler(endpoint)
        )
    except OSError as exc:
        log.error(
            "metrics_endpoint_unavailable",
            host=settings.metrics_host,
            port=settings.metrics_port,
            error=str(exc),
        )
        return None
    httpd.daemon_threads = True
    server = Server(endpoint, httpd)
    log.info(
        "metrics_endpoint_started", role=endpoint.role, host=settings.metrics_host, port=server.port
    )
    return server


def serve_poller(settings: Settings, extra: Iterable[Collector] = ()) -> Server | None:
    """The poller's endpoint: readiness = Redis reachable; exports the Redis state gauges."""
    if settings.metrics_port is None:
        return None
    from service.observability.redis_state import RedisStateCollector

    endpoint = Endpoint(
        "poller",
        checks={"redis": redis_check(settings)},
        collectors=[RedisStateCollector(settings), *extra],
    )
    return serve(settings, endpoint)
