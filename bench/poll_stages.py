"""Where a changed poll's CPU goes: the poller's own code, in this process, one poll at a time.

    python -m bench.poll_stages [--feeds N] [--hosts H] [--concurrency C]

The same realistic news feeds as ``bench.poller`` (``bench.origin.news_feed``: 50 items, about
2 KB of ``content:encoded`` each, one new item and a new ``lastBuildDate`` at every fetch),
served by the fast local origin (its own process) to a real :class:`service.poller.Poller`
built as ``newswire poller`` builds it (metered fetcher, the real producer, a private
redis-server), with each feed's seen-set and item memory as a first poll left them. Each
feed is made due, claimed and polled (``Poller.poll``, the whole path); ``--concurrency``
polls run at once (1: one at a time, so the stages do not overlap).

Each stage is timed with ``time.thread_time()`` (the CPU of the thread it runs in) by a
wrapper installed around it for this run only: the parse, the fetch, the enqueue, every
registry call, the item memory's load and dump, the body hash, the interval learning (with
its log line) and the metrics; and the parse's own parts (listed under it). ``poll, whole
process`` is the process CPU (``process_time``) over the measured polls; what the stages do
not cover is the event loop, the thread hand-offs and the poll's own bookkeeping. The first
feeds are a warm-up, not counted. The poller's log lines go to a file, as deployed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import Coroutine
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import redis

import service.feeds as feeds
import service.observability.fetching as metered
import service.observability.metrics as metrics
import service.poller as poller_module
from bench.common import PAGES, FastOrigin, Timers, redis_server, table
from bench.origin import page_names
from bench.poller import mark_first_version_seen, register
from service.cli.processes import redis_client
from service.feeds import decode, itemspans, normalise, prescreen, xmlfeed, xmltree
from service.feeds.memory import FeedMemory
from service.fetching.client import AsyncFetcher, address_guard
from service.logs import configure_logging
from service.observability.fetching import MeteredAsyncFetcher
from service.poller import Claim, Poller
from service.queue import Enqueuer
from service.registry import Registry, feed_id
from service.settings import Settings
from service.streams import Streams

WARM = 20


PART = "  └ "  # a part of the stage above it (not added to the total again)


def instrument(timers: Timers, stack: ExitStack) -> None:
    """Wrap each stage (undone when ``stack`` closes)."""
    stages: list[tuple[Any, str, str]] = [
        (poller_module, "parse_feed_update", "parse (parse_feed_update)"),
        (xmlfeed, "_feedparser", PART + "feedparser.parse of what is new (channel + new items)"),
        (itemspans, "find_items", PART + "items found in the bytes (expat pass)"),
        (feeds, "build_feed", PART + "entries normalised (HTML sanitised, links checked)"),
        (normalise, "sanitize_html", PART + "of which: HTML sanitised (nh3)"),
        (xmlfeed, "item_hash", PART + "items and channel hashed"),
        (decode, "to_utf8", PART + "decoded to UTF-8"),
        (xmltree, "repair", PART + "what is new repaired by libxml2"),
        (prescreen, "refuse_declarations", PART + "declarations refused (twice)"),
        (Enqueuer, "enqueue", "enqueue (send_task)"),
        *(
            (Registry, name, f"redis: Registry.{name}")
            for name in (
                "state",
                "item_memory",
                "renew_and_classify",
                "mark_seen",
                "finish",
                "claim",
            )
        ),
        (FeedMemory, "loads", "item memory: loads"),
        (FeedMemory, "dumps", "item memory: dumps"),
        (poller_module, "short_hash", "body hash"),
        (Poller, "_learn", "interval learning + log line"),
        (metrics, "record_poll", "metrics"),
        (metrics, "record_entries", "metrics"),
        (metered, "record_fetch", "metrics"),
    ]
    for owner, name, stage in stages:
        stack.enter_context(timers.wrap(owner, name, stage))
    stack.enter_context(timers.wrap_async(AsyncFetcher, "fetch", "fetch (AsyncFetcher.fetch)"))


def run(*, feeds: int, hosts: int, concurrency: int) -> str:
    pages = page_names(PAGES)
    timers = Timers(time.thread_time)  # the poller's stages run in several threads
    log = Path(tempfile.mkdtemp(prefix="nw-bench-stages-")) / "poller.log"
    with (
        log.open("w") as log_file,
        contextlib.redirect_stderr(log_file),  # the poller's log lines, rendered as deployed
        redis_server() as server,
        FastOrigin(hosts=hosts) as origin,
    ):
        settings = Settings(
            redis_url=server.url,
            allowed_networks="127.0.0.0/8",
            log_level="INFO",
            log_format="json",
            poll_interval_min=600,
            poll_interval_default=600,
            poll_interval_max=3600,
        )
        configure_logging(settings, process="poller")
        client = redis_client(settings)
        registry = Registry(client, settings)
        plain = redis.Redis.from_url(server.url, decode_responses=True)
        urls = [f"{origin.base(i)}/feed/news/{i}.xml" for i in range(feeds)]
        register(Registry(plain, settings), plain, urls, [""] * feeds)
        mark_first_version_seen(
            Registry(plain, settings), urls, pages, memory=True, links=address_guard(settings)
        )
        enqueuer = Enqueuer(settings)
        with ExitStack() as stack:
            stack.callback(enqueuer.close)
            instrument(timers, stack)
            cpu, polls = asyncio.run(
                _poll_all(settings, registry, client, plain, enqueuer, urls, concurrency, timers)
            )
    return report(timers, cpu, polls, concurrency)


async def _poll_all(
    settings: Settings,
    registry: Registry,
    client: redis.Redis,
    plain: redis.Redis,
    enqueuer: Enqueuer,
    urls: list[str],
    concurrency: int,
    timers: Timers,
) -> tuple[float, int]:
    async with MeteredAsyncFetcher(settings) as fetcher:
        poller = Poller(settings, registry, Streams(client, settings), fetcher, enqueuer.enqueue)

        async def one(url: str) -> str:
            plain.zadd(registry.schedule_key, {feed_id(url): 0})
            ids, lease = registry.claim([feed_id(url)], owner=poller.owner)
            return await poller.poll(Claim(ids[0], url, lease))

        async def batch(group: list[str]) -> None:
            runs: list[Coroutine[Any, Any, str]] = [one(url) for url in group]
            outcomes = await asyncio.gather(*runs)
            if any(outcome != "fetched" for outcome in outcomes):
                raise SystemExit(f"a poll was not a fetch: {outcomes}")

        for start in range(0, WARM, concurrency):
            await batch(urls[start : min(WARM, start + concurrency)])
        timers.seconds.clear()
        timers.calls.clear()
        measured = urls[WARM:]
        begin = time.process_time()
        for start in range(0, len(measured), concurrency):
            await batch(measured[start : start + concurrency])
        return time.process_time() - begin, len(measured)


def report(timers: Timers, cpu: float, polls: int, concurrency: int) -> str:
    ranked = sorted(timers.seconds.items(), key=lambda kv: -kv[1])
    top = [(k, v) for k, v in ranked if not k.startswith(PART)]
    parts = [(k, v) for k, v in ranked if k.startswith(PART)]
    ordered = top[:1] + parts + top[1:]  # the parse first, its parts under it
    rows = [
        (
            stage,
            f"{1000 * seconds / polls:.2f}",
            f"{100 * seconds / cpu:.0f} %",
            f"{timers.calls[stage] / polls:.1f}",
        )
        for stage, seconds in ordered
    ]
    covered = sum(v for stage, v in timers.seconds.items() if not stage.startswith(PART))
    rows.append(
        (
            "not in a stage: event loop, thread hand-offs, bookkeeping",
            f"{1000 * (cpu - covered) / polls:.2f}",
            f"{100 * (cpu - covered) / cpu:.0f} %",
            "",
        )
    )
    rows.append(("poll, whole process", f"{1000 * cpu / polls:.2f}", "100 %", ""))
    share = cpu / polls * 10_000 / 300
    return table(
        f"A changed poll by stage ({polls} polls, {concurrency} at a time)",
        ["stage", "CPU ms per poll", "share", "calls per poll"],
        rows,
        f"HEADLINE 10,000 feeds every 5 min at this cost per poll: {100 * share:.0f} % of one core",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=220, help="news feeds (the first 20 warm up)")
    parser.add_argument("--hosts", type=int, default=8, help="loopback hosts serving them")
    parser.add_argument("--concurrency", type=int, default=1, help="polls at once")
    args = parser.parse_args()
    print(run(feeds=args.feeds, hosts=args.hosts, concurrency=args.concurrency), flush=True)


if __name__ == "__main__":
    main()
