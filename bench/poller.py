"""Poller capacity: polls per second and CPU per poll of one ``newswire poller`` process, a
changed poll side by side with a plain ``feedparser.parse`` of the same document, and the
cost of a scheduling tick against the number of registered feeds.

    python -m bench.poller [--feeds N] [--changing M] [--cold C] [--first K] [--smoke]

The feeds are served by the fast local origin (``bench.origin``, its own process) on 64
loopback addresses, so the poller sees 64 hosts (its per-host bound stays as configured).
The poller runs as deployed except for its intervals (every feed is polled once per
phase; a tick every 0.1 s). Each phase makes a set of feeds due at once and times the poller
until every one of them is rescheduled; CPU comes from /proc (the poller's whole process
tree, the origin's and redis-server's, separately):

- ``304``: N feeds whose stored ETag still matches (the usual poll: ``304 Not Modified``);
- ``changed``: M realistic news feeds (``bench.origin.news_feed``: 50 items with about 2 KB
  of ``content:encoded`` each, ≈ 150 KB, a new ``lastBuildDate`` and one new item at every
  fetch), polled before (seen-set and item memory as that poll left them): parse, seen-set
  lookup, one task enqueued, seen-set and memory update (the first M/4, at most 20, are a
  warm-up, not counted: the first enqueue in the process sets up the producer);
- ``changed, no item memory``: C more such feeds whose seen-set is there but whose item
  memory is not (the whole document parsed: the path before the item memory, and every
  feed's first poll after an upgrade);
- ``first poll``: K feeds polled for the first time (50 new items each: 50 tasks enqueued).

Side by side, in this process and the same run: a plain ``feedparser.parse`` (its defaults)
of 30 of the documents the changed feeds served, and newswire's own whole parse (``parse_feed``).
HEADLINE: a changed poll ÷ that plain parse (target ≤ 0.35), and the core share of 10,000
feeds every 5 min with every poll changed (target ≤ 25 %).

The tick cost is ``Registry.claim_due`` (the poller's whole per-tick scheduling work) with a
fixed 100 feeds due among 1k, 10k and 50k registered, run in this process.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import feedparser
import redis

from bench.common import (
    PAGES,
    FastOrigin,
    Role,
    Spy,
    bench_env,
    cpu_seconds,
    median,
    mib,
    redis_server,
    table,
    wait_until,
)
from bench.origin import news_feed, page_names
from service.addresses import AddressGuard
from service.feeds import parse_feed, parse_feed_update
from service.fetching.client import address_guard
from service.registry import Registry, feed_id
from service.settings import Settings

HOSTS = 64
FUTURE = 1e10  # a due time no phase reaches
DUE_PER_TICK = 100
SKIP = ("runpy", "click/", "asyncio/", "service/cli/")


def register(registry: Registry, client: redis.Redis, urls: list[str], etags: list[str]) -> None:
    """Register feeds, parked far in the future; ``etags``: what a first poll stored."""
    for url in urls:
        registry.add(url, None, now=0)
    pipe = client.pipeline(transaction=False)
    for url, etag in zip(urls, etags, strict=True):
        if etag:
            pipe.hset(registry.state_key(feed_id(url)), "etag", etag)
        pipe.zadd(registry.schedule_key, {feed_id(url): FUTURE})
    pipe.execute()


def poller_env(redis_url: str) -> dict[str, str]:
    """The poller subprocess's environment: feeds polled once per phase (due again after
    10 minutes at the soonest, longer than any phase), a fast tick."""
    return bench_env(
        redis_url,
        poll_interval_min=600,
        poll_interval_default=600,
        poll_interval_max=3600,
        poll_tick=0.1,
    )


def poller_settings(env: dict[str, str]) -> Settings:
    """The settings the poller subprocess reads from ``env``."""
    return Settings.model_validate(
        {
            k.removeprefix("NEWSWIRE_").lower(): v
            for k, v in env.items()
            if k.startswith("NEWSWIRE_")
        }
    )


def mark_first_version_seen(
    registry: Registry, urls: list[str], pages: list[str], *, memory: bool, links: AddressGuard
) -> None:
    """What a poll of version 0 of each news feed left: its seen-set and, with ``memory``,
    its item memory (``links``: the poller's link policy, part of every item's hash)."""
    for url in urls:
        base, n = url.split("/feed/")[0], int(url.rsplit("/", 1)[-1].removesuffix(".xml"))
        update = parse_feed_update(news_feed(base, n, 0, pages), url=url, links=links)
        registry.mark_seen(feed_id(url), update.feed.entries, now=1.0)
        if memory:
            registry.save_item_memory(feed_id(url), update.memory.dumps())


def plain_parse_cost(urls: list[str], pages: list[str]) -> dict[str, float]:
    """CPU seconds per document of a plain ``feedparser.parse`` (defaults) and of newswire's
    whole ``parse_feed``, on the documents the changed feeds served (version 1); best of 3
    rounds."""
    documents = []
    for url in urls:
        base, n = url.split("/feed/")[0], int(url.rsplit("/", 1)[-1].removesuffix(".xml"))
        documents.append((url, news_feed(base, n, 1, pages)))
    out: dict[str, float] = {}
    for name, parse in (
        ("feedparser", lambda _url, doc: feedparser.parse(io.BytesIO(doc))),
        ("parse_feed", lambda url, doc: parse_feed(doc, url=url)),
    ):
        rounds = []
        for _ in range(3):
            begin = time.process_time()
            for url, doc in documents:
                parse(url, doc)
            rounds.append((time.process_time() - begin) / len(documents))
        out[name] = min(rounds)
    out["bytes"] = sum(len(d) for _u, d in documents) / len(documents)
    return out


def phase(
    client: redis.Redis,
    registry: Registry,
    urls: list[str],
    poller: Role,
    origin: FastOrigin,
    redis_pid: int,
) -> dict[str, float]:
    """Make ``urls`` due now; wait until each is polled and rescheduled."""
    before = (poller.cpu(), cpu_seconds(origin.pid), cpu_seconds(redis_pid))
    requests = origin.stats()["requests"]
    start = time.time()
    client.zadd(registry.schedule_key, {feed_id(url): 0 for url in urls})

    def done() -> bool:  # rescheduled: due after the lease a claim would have set
        return int(client.zcount(registry.schedule_key, "-inf", start + 400)) == 0

    end = wait_until(done, timeout=60 + len(urls) / 20, what="every feed polled", interval=0.02)
    after = (poller.cpu(), cpu_seconds(origin.pid), cpu_seconds(redis_pid))
    polls = origin.stats()["requests"] - requests - 1  # minus the stats request itself
    return {
        "polls": polls,
        "seconds": end - start,
        "cpu": after[0] - before[0],
        "origin": after[1] - before[1],
        "redis": after[2] - before[2],
        "rss": poller.rss(),
    }


def tick_cost(client: redis.Redis, settings: Settings, totals: list[int]) -> list[float]:
    """Median seconds of ``claim_due`` with DUE_PER_TICK due among each total registered."""
    registry = Registry(client, settings)
    out = []
    for total in totals:
        client.delete(registry.schedule_key)
        pipe = client.pipeline(transaction=False)
        for start in range(0, total, 5000):
            pipe.zadd(
                registry.schedule_key,
                {f"f{i}": FUTURE for i in range(start, min(total, start + 5000))},
            )
        pipe.execute()
        due = {f"f{i}": 0 for i in range(DUE_PER_TICK)}
        samples = []
        for _ in range(50):
            client.zadd(registry.schedule_key, due)
            begin = time.perf_counter()
            ids, _lease = registry.claim_due(DUE_PER_TICK, owner="bench")
            samples.append(time.perf_counter() - begin)
            assert len(ids) == DUE_PER_TICK
        out.append(median(samples))
    client.delete(registry.schedule_key)
    return out


def run(
    *,
    feeds: int,
    changing: int,
    cold: int,
    first: int,
    totals: list[int],
    profile: bool = False,
    documents: int = 30,
) -> str:
    pages = page_names(PAGES)
    log_dir = Path(tempfile.mkdtemp(prefix="nw-bench-poller-"))
    with redis_server() as server, FastOrigin(hosts=HOSTS) as origin:
        assert server.process is not None
        settings = Settings(redis_url=server.url)
        client = redis.Redis.from_url(server.url, decode_responses=True)
        registry = Registry(client, settings)
        static = [f"{origin.base(i)}/feed/static/{i}.xml" for i in range(feeds)]
        moving = [f"{origin.base(i)}/feed/news/{i}.xml" for i in range(changing)]
        unmemorised = [f"{origin.base(i)}/feed/news/{changing + i}.xml" for i in range(cold)]
        fresh = [f"{origin.base(i)}/feed/static/{feeds + i}.xml" for i in range(first)]
        register(registry, client, static, [f'"s{i}"' for i in range(feeds)])
        register(registry, client, moving + unmemorised, [""] * (changing + cold))
        register(registry, client, fresh, [""] * first)
        env = poller_env(server.url)
        links = address_guard(poller_settings(env))
        mark_first_version_seen(registry, moving, pages, memory=True, links=links)
        mark_first_version_seen(registry, unmemorised, pages, memory=False, links=links)
        results = {}
        with Role(["poller"], env, log_dir / "poller.log") as poller:
            time.sleep(3)  # imports and start-up are not polling
            phase(client, registry, static[:20], poller, origin, server.process.pid)  # warm
            results["304"] = phase(
                client, registry, static[20:], poller, origin, server.process.pid
            )
            if profile:
                with Spy(poller.pid, log_dir / "changed.spy") as spy:
                    phase(
                        client,
                        registry,
                        moving[: changing // 2],
                        poller,
                        origin,
                        server.process.pid,
                    )
                print("py-spy, poller, changed feeds:\n" + spy.top(40, skip=SKIP), flush=True)
                moving = moving[changing // 2 :]
            # warm: the first enqueue in the process and in each thread sets up the producer
            warm = min(20, len(moving) // 4)
            phase(client, registry, moving[:warm], poller, origin, server.process.pid)
            results["changed"] = phase(
                client, registry, moving[warm:], poller, origin, server.process.pid
            )
            results["cold"] = phase(
                client, registry, unmemorised, poller, origin, server.process.pid
            )
            results["first"] = phase(client, registry, fresh, poller, origin, server.process.pid)
        plain = plain_parse_cost(moving[:documents], pages)
        ticks = tick_cost(client, settings, totals)
        client.close()
    return report(results, plain, totals, ticks)


def report(
    results: dict[str, dict[str, float]],
    plain: dict[str, float],
    totals: list[int],
    ticks: list[float],
) -> str:
    rows: list[list[object]] = []
    labels = {
        "304": "feed answers 304 Not Modified",
        "changed": "changed news feed, 1 new item",
        "cold": "changed news feed, no item memory",
        "first": "first poll: 50 new items (50 tasks)",
    }
    for key, label in labels.items():
        r = results[key]
        per = r["cpu"] / r["polls"]
        rows.append(
            [
                label,
                int(r["polls"]),
                r["polls"] / r["seconds"],
                1000 * per,
                per / plain["feedparser"],
                0.5 * 300 / per,
                1000 * r["origin"] / r["polls"],
                1000 * r["redis"] / r["polls"],
                mib(r["rss"]),
            ]
        )
    first = table(
        "Poller: one process, 64 local hosts",
        [
            "phase",
            "polls",
            "polls/s",
            "poller CPU ms/poll",
            "÷ plain feedparser.parse",
            "feeds per 5 min on half a core",
            "origin CPU ms/req",
            "redis CPU ms/poll",
            "poller PSS MiB",
        ],
        rows,
        "feeds per 5 min on half a core = 0.5 core x 300 s ÷ CPU per poll",
    )
    side = table(
        f"Side by side, this run: parsing one changed news feed document "
        f"({plain['bytes'] / 1024:.0f} KB, 50 items)",
        ["what", "CPU ms/document"],
        [
            ["plain feedparser.parse (defaults)", 1000 * plain["feedparser"]],
            ["newswire parse_feed, whole document", 1000 * plain["parse_feed"]],
            [
                "newswire changed poll, whole poller (fetch, parse, Redis, enqueue)",
                1000 * results["changed"]["cpu"] / results["changed"]["polls"],
            ],
        ],
        "",
    )
    tick_rows: list[list[object]] = [
        [f"{total:,}", DUE_PER_TICK, 1000 * seconds, seconds / ticks[0]]
        for total, seconds in zip(totals, ticks, strict=True)
    ]
    second = table(
        "Scheduling tick (Registry.claim_due) against registered feeds",
        ["registered feeds", "due", "ms per tick", "vs smallest"],
        tick_rows,
        f"{totals[-1]:,} ÷ {totals[0]:,} registered: "
        f"{ticks[-1] / ticks[0]:.2f}x the tick cost (flat = grows with due feeds only)",
    )
    changed = results["changed"]["cpu"] / results["changed"]["polls"]
    share = 10_000 / 300 * changed
    return (
        f"{first}\n\n{side}\n\n{second}\n"
        f"HEADLINE changed poll ÷ plain feedparser.parse: {changed / plain['feedparser']:.3f} "
        f"(target ≤ 0.35)\n"
        f"HEADLINE 10,000 feeds every 5 min, every poll a changed feed: "
        f"{100 * share:.0f} % of one core (target ≤ 25 %)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, default=3000, help="feeds answering 304")
    parser.add_argument("--changing", type=int, default=1000, help="news feeds that change")
    parser.add_argument(
        "--cold", type=int, default=100, help="changing news feeds without an item memory"
    )
    parser.add_argument("--first", type=int, default=100, help="feeds polled the first time")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the poller over half of the changed feeds first",
    )
    args = parser.parse_args()
    totals = [1000, 10_000, 50_000]
    if args.smoke:
        args.feeds, args.changing, args.cold, args.first = 120, 40, 5, 10
        totals = [1000, 5000]
    print(
        run(
            feeds=args.feeds,
            changing=args.changing,
            cold=args.cold,
            first=args.first,
            totals=totals,
            documents=5 if args.smoke else 30,
            profile=args.profile,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
