"""Poll cycle over the real corpus feeds: how long one poller takes to poll every feed once.

Serves every file of ``tests/data/corpus/feeds`` from a local origin, registers them in a
fresh embedded Redis, runs one in-process poller until every feed has been polled, and prints
per-outcome counts, entries enqueued, the cycle time and the poller's CPU time per feed.

The origin (``tests.support.origin``, a threaded server) runs in a child process and Redis in
its own: the CPU time printed is this process's alone, the poller's (its event loop and the
threads it parses in).

    python -m bench.corpus_cycle [--corpus DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from pathlib import Path

import redis

from service.embedded_redis import EmbeddedRedis
from service.fetching import AsyncFetcher
from service.logs import configure_logging
from service.poller import Poller
from service.registry import Registry
from service.settings import Settings
from service.streams import Streams
from tests.support.corpus import corpus_root
from tests.support.origin import Origin

CORPUS = corpus_root() / "feeds"
TYPES = {
    ".json": "application/feed+json",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
}


def serve_corpus(origin: Origin, corpus: Path) -> list[str]:
    urls = []
    for path in sorted(corpus.iterdir()):
        if path.suffix not in TYPES:
            continue
        origin.add(
            f"/{path.name}",
            path.read_bytes(),
            content_type=TYPES[path.suffix],
            etag=f'"{path.stat().st_size}"',
        )
        urls.append(origin.url(f"/{path.name}"))
    return urls


def _origin_child(corpus: Path, pipe: Connection) -> None:
    with Origin() as origin:
        pipe.send(serve_corpus(origin, corpus))
        pipe.recv()  # "cpu": the CPU seconds spent serving so far
        pipe.send(time.process_time())
        pipe.recv()  # until the parent is done


@contextmanager
def corpus_origin(corpus: Path) -> Iterator[tuple[list[str], Callable[[], float]]]:
    """The corpus served from a child process (its CPU is not the poller's): the URLs and
    a function that asks the origin for its CPU seconds."""
    context = multiprocessing.get_context("fork")  # started before any thread of ours
    ours, theirs = context.Pipe()
    child = context.Process(target=_origin_child, args=(corpus, theirs), daemon=True)
    child.start()

    def origin_cpu() -> float:
        ours.send("cpu")
        return float(ours.recv())

    try:
        yield ours.recv(), origin_cpu
    finally:
        with suppress(OSError):
            ours.send("stop")
        child.join(timeout=10)
        if child.is_alive():
            child.kill()


async def one_cycle(poller: Poller, registry: Registry, count: int) -> float:
    started = time.perf_counter()
    while True:
        await poller.tick()
        await asyncio.sleep(0.01)
        done = sum(1 for s in registry.states() if s.last_poll_at)
        if done >= count and not poller._polls:
            return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    with (
        corpus_origin(args.corpus) as (urls, origin_cpu),
        tempfile.TemporaryDirectory() as tmp,
        EmbeddedRedis(Path(tmp), appendonly=False) as server,
    ):
        settings = Settings(
            redis_url=server.url,
            allowed_networks="127.0.0.0/8",  # type: ignore[arg-type]
            poll_concurrency=50,
            poll_per_host=50,
            log_level="ERROR",
        )
        configure_logging(settings)
        client = redis.Redis.from_url(server.url, decode_responses=True)
        registry, streams = Registry(client, settings), Streams(client, settings)
        for url in urls:
            registry.add(url, None, now=time.time())
        enqueued: list[str] = []

        async def run() -> tuple[float, float]:
            async with AsyncFetcher(settings) as fetcher:
                poller = Poller(
                    settings,
                    registry,
                    streams,
                    fetcher,
                    lambda url, _feed, _entry: enqueued.append(url),
                )
                cpu = time.process_time()
                wall = await one_cycle(poller, registry, len(urls))
                return wall, time.process_time() - cpu

        wall, cpu = asyncio.run(run())
        results = Counter(s.last_result for s in registry.states())
        print(f"{'corpus feeds':28} {len(urls):>8}")
        for outcome, n in sorted(results.items()):
            print(f"{'  result ' + outcome:28} {n:>8}")
        print(f"{'entries enqueued':28} {len(enqueued):>8}")
        dead = Counter(
            f["type"] + " " + f["reason"] for _, f in client.xrange(settings.dead_stream)
        )
        for kind, n in sorted(dead.items()):
            print(f"{'  dead ' + kind:28} {n:>8}")
        print(f"{'cycle wall time (s)':28} {wall:>8.2f}")
        print(f"{'poller CPU per feed (ms)':28} {1000 * cpu / len(urls):>8.1f}")
        print(f"{'origin CPU per feed (ms)':28} {1000 * origin_cpu() / len(urls):>8.1f}")
        print(f"{'feeds per CPU-second':28} {len(urls) / cpu:>8.1f}")
        client.close()


if __name__ == "__main__":
    main()
