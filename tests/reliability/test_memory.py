"""A worker processes many pages: the resident memory of its pool process, sampled from /proc,
must not grow without bound (target: under 100 MB of growth over 5,000 pages), with
``worker_max_tasks_per_child`` / ``worker_max_memory_per_child`` as configured."""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.queue import Enqueuer
from service.settings import Settings
from tests.conftest import corpus_dir
from tests.reliability.harness import broker_idle, fault_env, start_worker
from tests.support.faults import children_of, count_events, record_figures, rss_kib
from tests.support.origin import Origin, Response
from tests.support.processes import stop, wait_for
from tests.support.sitegen import article_html

REAL_EVERY = 4  # one page in four is a real news page from the corpus, the rest generated


def corpus_pages() -> list[bytes]:
    return [gzip.decompress(p.read_bytes()) for p in sorted(corpus_dir("pages").glob("*.html.gz"))]


def page_handler(origin: Origin, real: list[bytes]) -> object:
    base = origin.url("")

    def handler(req: BaseHTTPRequestHandler) -> Response:
        i = int(parse_qs(urlsplit(req.path).query)["i"][0])
        body = (
            real[(i // REAL_EVERY) % len(real)]
            if i % REAL_EVERY == 0
            else article_html(i, base=base).encode()
        )
        return Response(body=body, headers={"Content-Type": "text/html; charset=utf-8"})

    return handler


@dataclass
class Sampler:
    """Samples the RSS of every pool process of a worker, in a thread."""

    worker_pid: int
    interval: float = 0.2
    samples: dict[int, list[tuple[float, int]]] = field(default_factory=dict)
    parent_peak_kib: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            now = time.monotonic()
            for pid in children_of(self.worker_pid):
                kib = rss_kib(pid)
                if kib:
                    self.samples.setdefault(pid, []).append((now, kib))
            self.parent_peak_kib = max(self.parent_peak_kib, rss_kib(self.worker_pid))

    def stop(self) -> None:
        self._stop.set()


def measure(
    origin: Origin, server: EmbeddedRedis, tmp_path: Path, *, pages: int, fault: str
) -> dict[str, object]:
    origin.add_handler("/mem", page_handler(origin, corpus_pages()))  # type: ignore[arg-type]
    settings = Settings(redis_url=server.url)
    env = fault_env(server.url)
    client = redis.Redis.from_url(server.url, decode_responses=True)
    worker = start_worker(env, tmp_path / "worker.log", concurrency=1)
    sampler = Sampler(worker.pid)
    thread = threading.Thread(target=sampler.run, daemon=True)
    try:
        wait_for(lambda: children_of(worker.pid), timeout=60, message="the pool process")
        thread.start()
        enqueuer = Enqueuer(settings)
        started = time.monotonic()
        for i in range(pages):
            enqueuer.enqueue(origin.url(f"/mem?i={i}"), "http://feeds.test/mem", None)
        enqueuer.close()
        log = tmp_path / "worker.log"
        wait_for(
            lambda: (
                count_events(log, "article_done") + count_events(log, "article_failed") >= pages
                and broker_idle(client)
            ),
            timeout=pages * 0.5 + 60,
            interval=1.0,
            message=f"{pages} tasks done",
        )
        took = time.monotonic() - started
    finally:
        sampler.stop()
        stop(worker)
        client.close()
    children = {pid: s for pid, s in sampler.samples.items() if len(s) >= 5}
    # Per pool process: growth from its RSS once warm (a tenth into its life) to its peak.
    growth = {pid: max(k for _t, k in s) - s[len(s) // 10][1] for pid, s in children.items()}
    peak = max(k for s in children.values() for _t, k in s)
    figures = record_figures(
        fault,
        pages=pages,
        real_pages=len(range(0, pages, REAL_EVERY)),
        seconds=round(took, 1),
        pool_processes=len(children),
        warm_rss_mb=round(min(s[len(s) // 10][1] for s in children.values()) / 1024, 1),
        peak_rss_mb=round(peak / 1024, 1),
        max_growth_mb=round(max(growth.values()) / 1024, 1),
        parent_peak_rss_mb=round(sampler.parent_peak_kib / 1024, 1),
        published=count_events(tmp_path / "worker.log", "article_done"),
        max_tasks_per_child=settings.worker_max_tasks_per_child,
        max_memory_per_child_mb=round(settings.worker_max_memory_per_child_kb / 1024),
    )
    assert max(growth.values()) < 100 * 1024
    return figures


@pytest.mark.timeout(180)
def test_worker_memory_over_300_pages(
    origin: Origin, redis_server: EmbeddedRedis, redis_client: redis.Redis, tmp_path: Path
) -> None:
    measure(origin, redis_server, tmp_path, pages=300, fault="memory_300_pages")


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_worker_memory_over_5000_pages(
    origin: Origin, redis_server: EmbeddedRedis, redis_client: redis.Redis, tmp_path: Path
) -> None:
    measure(origin, redis_server, tmp_path, pages=5000, fault="memory_5000_pages")
