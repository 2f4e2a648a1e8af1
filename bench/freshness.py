"""Freshness: from an item appearing in its feed to its article on ``newswire:articles``.

    python -m bench.freshness [--feeds N] [--gap S] [--seconds T] [--smoke]

A poller and a worker (``-c 1``) run as deployed against the local origin, whose N feeds
(on distinct loopback hosts) each publish a new item every S seconds (feeds out of phase),
linking to a real corpus page. The poller learns each feed's interval from its items'
dates (half the median gap between them, never below ``NEWSWIRE_POLL_INTERVAL_MIN``, here
1 s), so this is a modest, steady load. Every item that appeared after a warm-up is traced:

- detect: item appeared -> first served in a feed response (the poll interval bounds it);
- hand-off: first served -> its page first requested (parse, enqueue, queue, task start);
- work: page requested -> article on the stream (fetch, extract, structure, publish).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import redis

from bench.common import FastOrigin, Role, bench_env, percentile, redis_server, table, worker
from service.registry import Registry
from service.settings import Settings

HISTORY = 4  # items each feed shows before the run


def run(*, feeds: int, gap: float, seconds: float) -> str:
    log_dir = Path(tempfile.mkdtemp(prefix="nw-bench-freshness-"))
    start = time.time()
    t0 = start - HISTORY * gap  # items 0..HISTORY-1 were published before the run
    with (
        redis_server() as server,
        FastOrigin(hosts=feeds, timed_feeds=feeds, t0=t0, gap=gap, seed=7) as origin,
    ):
        settings = Settings(redis_url=server.url)
        client = redis.Redis.from_url(server.url, decode_responses=True)
        registry = Registry(client, settings)
        for n in range(feeds):
            registry.add(f"{origin.base(n)}/feed/timed/{n}.xml", None, now=0)
        env = bench_env(server.url)
        with worker(env, 1, log_dir), Role(["poller"], env, log_dir / "poller.log"):
            time.sleep(seconds)
        stats = origin.stats()
        published = {}
        for entry_id, fields in client.xrange(settings.articles_stream):
            key = json.loads(fields["data"])["url"].split("/page/")[1].split("/")[0]
            published[key] = int(entry_id.split("-")[0]) / 1000
        client.close()
    return report(stats, published, start=start, t0=t0, gap=gap, feeds=feeds, seconds=seconds)


def report(
    stats: dict[str, dict[str, float]],
    published: dict[str, float],
    *,
    start: float,
    t0: float,
    gap: float,
    feeds: int,
    seconds: float,
) -> str:
    from bench.origin import Timed

    timed = Timed(feeds, t0, gap, seed=7)  # the origin's schedule, recomputed
    traced: dict[str, list[float]] = {"detect": [], "handoff": [], "work": [], "total": []}
    appeared_n = missing = 0
    for n in range(feeds):
        k = 0
        while timed.appeared(n, k) < start + seconds - 3 * gap:
            appeared = timed.appeared(n, k)
            key = f"t{n}-{k}"
            k += 1
            if appeared < start + 2 * gap:  # warm-up: the first polls enqueue the history
                continue
            appeared_n += 1
            if key not in published or key not in stats["first_served"]:
                missing += 1
                continue
            served, page = stats["first_served"][key], stats["page_served"].get(key)
            traced["detect"].append(served - appeared)
            if page is not None:
                traced["handoff"].append(page - served)
                traced["work"].append(published[key] - page)
            traced["total"].append(published[key] - appeared)
    rows: list[list[object]] = []
    labels = {
        "detect": "detect (appeared -> in a polled feed)",
        "handoff": "hand-off (-> page requested by a worker)",
        "work": "work (-> article on the stream)",
        "total": "total: appeared -> on the stream",
    }
    for key, label in labels.items():
        values = traced[key]
        rows.append(
            [
                label,
                len(values),
                percentile(values, 50),
                percentile(values, 95),
                max(values) if values else 0.0,
            ]
        )
    p50, p95 = percentile(traced["total"], 50), percentile(traced["total"], 95)
    return table(
        f"Freshness: {feeds} feeds, a new item every {gap:g} s each, {seconds:g} s run",
        ["stage", "items", "p50 s", "p95 s", "max s"],
        rows,
        f"items traced: {len(traced['total'])} of {appeared_n} (not on the stream in time: "
        f"{missing}); learned poll interval: gap ÷ 2 = {gap / 2:g} s, at least 1 s",
    ) + (
        f"\nHEADLINE freshness p50 {p50:.2f} s, p95 {p95:.2f} s; "
        f"p95 ÷ poll interval: {p95 / max(1.0, gap / 2):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--gap", type=float, default=8.0, help="seconds between a feed's items")
    parser.add_argument("--seconds", type=float, default=50.0)
    parser.add_argument("--smoke", action="store_true", help="4 feeds, 9 s")
    args = parser.parse_args()
    if args.smoke:
        args.feeds, args.gap, args.seconds = 4, 1.2, 9.0
    print(run(feeds=args.feeds, gap=args.gap, seconds=args.seconds), flush=True)


if __name__ == "__main__":
    main()
