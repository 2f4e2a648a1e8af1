"""Memory and Redis footprint: worker and poller memory under sustained load, Redis bytes per
registered feed, per seen entry and per article kept in the stream.

    python -m bench.footprint [--rounds R] [--feeds N] [--articles A] [--smoke]

- Worker: ``newswire worker -c 1`` fetches, extracts and publishes the whole page corpus R
  times (distinct URLs each round); its memory (PSS of the parent and its pool process) is
  read after each round. It is bounded by ``NEWSWIRE_WORKER_MAX_TASKS_PER_CHILD`` and
  ``NEWSWIRE_WORKER_MAX_MEMORY_PER_CHILD_KB``, which replace a pool process that grew.
- Poller: ``newswire poller`` polls N feeds (on 64 loopback hosts) R times over (304s, and
  one round of changed 50-item feeds); its memory after each round.
- Redis: ``bench.redis_footprint`` (growth of ``INFO memory`` used_memory per item, written
  through newswire's own code).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import redis

from bench import redis_footprint
from bench.common import (
    PAGES,
    FastOrigin,
    Role,
    bench_env,
    drained,
    load_pages,
    mib,
    redis_server,
    table,
    wait_until,
    worker,
)
from bench.origin import page_names
from bench.poller import (
    mark_first_version_seen,
    phase,
    poller_env,
    poller_settings,
    register,
)
from service.fetching.client import address_guard
from service.queue import Enqueuer
from service.registry import Registry
from service.settings import Settings


def worker_memory(rounds: int, pages_n: int | None) -> list[tuple[int, int]]:
    """(tasks done, PSS bytes) after each round of the corpus."""
    pages = load_pages(pages_n)
    out = []
    with redis_server() as server, FastOrigin(hosts=1) as origin:
        settings = Settings(redis_url=server.url)
        client = redis.Redis.from_url(server.url)
        enqueuer = Enqueuer(settings)
        with worker(bench_env(server.url), 1, Path(tempfile.mkdtemp())) as role:
            wait_until(lambda: drained(client), timeout=30, what="worker up")
            done = 0
            for r in range(rounds):
                for i, page in enumerate(pages):
                    enqueuer.enqueue(
                        f"{origin.base()}/page/m{r}-{i}/{page.name}",
                        "http://127.0.0.1/feed.xml",
                        None,
                    )
                time.sleep(0.5)
                wait_until(
                    lambda: drained(client),
                    timeout=60 + 2 * len(pages),
                    what="worker drained",
                    interval=0.05,
                )
                done += len(pages)
                out.append((done, role.rss()))
        enqueuer.close()
        client.close()
    return out


def poller_memory(rounds: int, feeds: int) -> list[tuple[str, int, int]]:
    """(phase, polls so far, PSS bytes) after each round."""
    out = []
    with redis_server() as server, FastOrigin(hosts=64) as origin:
        assert server.process is not None
        settings = Settings(redis_url=server.url)
        client = redis.Redis.from_url(server.url, decode_responses=True)
        registry = Registry(client, settings)
        static = [f"{origin.base(i)}/feed/static/{i}.xml" for i in range(feeds)]
        moving = [f"{origin.base(i)}/feed/news/{i}.xml" for i in range(feeds // 4)]
        register(registry, client, static, [f'"s{i}"' for i in range(feeds)])
        register(registry, client, moving, [""] * len(moving))
        env = poller_env(server.url)
        links = address_guard(poller_settings(env))
        mark_first_version_seen(registry, moving, page_names(PAGES), memory=True, links=links)
        with Role(["poller"], env, Path(tempfile.mkdtemp()) / "poller.log") as poller:
            time.sleep(3)
            out.append(("started", 0, poller.rss()))
            polls = 0
            for r in range(rounds):
                result = phase(client, registry, static, poller, origin, server.process.pid)
                polls += int(result["polls"])
                out.append((f"304 round {r + 1}", polls, poller.rss()))
            result = phase(client, registry, moving, poller, origin, server.process.pid)
            polls += int(result["polls"])
            out.append(("changed feeds", polls, poller.rss()))
        client.close()
    return out


def run(*, rounds: int, feeds: int, articles: int, pages_n: int | None) -> str:
    w = worker_memory(rounds, pages_n)
    p = poller_memory(rounds, feeds)
    r = redis_footprint.run(articles=articles, feeds=max(100, feeds), seen=articles * 5)
    first = table(
        "Worker memory (newswire worker -c 1: parent + pool process, PSS)",
        ["after tasks", "PSS MiB"],
        [[n, mib(b)] for n, b in w],
        f"last round ÷ first round: {w[-1][1] / w[0][1]:.2f}",
    )
    second = table(
        "Poller memory (one process, PSS)",
        ["after", "polls", "PSS MiB"],
        [[label, n, mib(b)] for label, n, b in p],
        f"{feeds:,} feeds registered; last ÷ first polling round: {p[-2][2] / p[1][2]:.2f}",
    )
    third = table(
        "Redis bytes per item (INFO memory used_memory growth)",
        ["what", "bytes each", "note"],
        [[a, b, c] for a, b, c in r],
        "see docs/operations.md (Sizing) for totals at given settings",
    )
    per_article = r[0][1]
    return (
        f"{first}\n\n{second}\n\n{third}\nHEADLINE Redis bytes per article kept in the "
        f"stream: {per_article:,.0f}; worker memory last ÷ first round: "
        f"{w[-1][1] / w[0][1]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    pages_n = None
    if args.smoke:
        args.rounds, args.feeds, args.articles, pages_n = 2, 64, 100, 3
    print(
        run(rounds=args.rounds, feeds=args.feeds, articles=args.articles, pages_n=pages_n),
        flush=True,
    )


if __name__ == "__main__":
    main()
