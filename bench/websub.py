"""Freshness with WebSub push, side by side with polling only.

    python -m bench.websub [--items N] [--gap S] [--interval S] [--smoke]

Two runs of the same story, each with its own redis-server, a poller and a worker
(``-c 1``) as deployed, the local origin and the local hub of the tests
(``tests/support/hub.py``, on 127.0.0.1): one feed publishes a new item every S seconds,
N times. With push, the feed advertises the hub, the poller subscribes, and each new item
is distributed by the hub (signed) the moment it appears; polling only, the feed names no
hub and is polled every ``--interval`` seconds (pinned: min = default = max). Traced per
item: appeared (the feed and the hub updated) -> its article on ``newswire:articles``
(the stream entry's own timestamp).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis

from bench.common import Role, bench_env, percentile, redis_server, table, wait_until, worker
from service.embedded_redis import free_port
from service.registry import Registry
from service.settings import Settings
from tests.support.hub import Hub
from tests.support.origin import Origin
from tests.support.sitegen import article_html, rss_feed

HISTORY = 2


def feed_body(items: list[int], *, base: str, hub: str | None, topic: str) -> bytes:
    rss = rss_feed(items[-10:], base=base)
    if hub is None:
        return rss.encode()
    rss = rss.replace(
        '<rss version="2.0">', '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
    )
    links = f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{topic}"/>'
    return rss.replace("<channel>", f"<channel>{links}", 1).encode()


def one_run(push: bool, *, items: int, gap: float, interval: float) -> list[float]:
    log_dir = Path(tempfile.mkdtemp(prefix="nw-bench-websub-"))
    with redis_server() as server, Origin() as origin, Hub(lease_seconds=3600) as hub:
        base, topic = origin.url(""), origin.url("/feed.xml")
        port = free_port()
        overrides: dict[str, object] = {
            "poll_interval_min": interval,
            "poll_interval_default": interval,
            "poll_interval_max": interval,
        }
        if push:
            overrides |= {
                "public_url": f"http://127.0.0.1:{port}",
                "websub_listen": f"127.0.0.1:{port}",
            }
        env = bench_env(server.url, **overrides)
        client = redis.Redis.from_url(server.url, decode_responses=True)
        settings = Settings(redis_url=server.url)
        shown = list(range(HISTORY))
        for i in shown:
            origin.add(f"/news/{i}", article_html(i, base=base))
        hub_url = hub.url if push else None

        def show() -> bytes:
            body = feed_body(shown, base=base, hub=hub_url, topic=topic)
            origin.add("/feed.xml", body, content_type="application/rss+xml")
            return body

        show()
        Registry(client, settings).add(topic, None, now=0)
        appeared: dict[str, float] = {}
        with worker(env, 1, log_dir), Role(["poller"], env, log_dir / "poller.log"):
            wait_until(
                lambda: client.xlen(settings.articles_stream) >= HISTORY,
                timeout=120,
                what="the history on the stream",
                interval=0.1,
            )
            if push:
                wait_until(
                    lambda: hub.verified(topic) > 0, timeout=60, what="subscription", interval=0.1
                )
            for k in range(items):
                i = HISTORY + k
                origin.add(f"/news/{i}", article_html(i, base=base))
                shown.append(i)
                appeared[origin.url(f"/news/{i}")] = time.time()
                body = show()
                if push:
                    hub.publish(topic, body)
                time.sleep(gap)  # pacing of the publisher, not synchronisation
            wait_until(
                lambda: client.xlen(settings.articles_stream) >= HISTORY + items,
                timeout=interval * 3 + 60,
                what="every item on the stream",
                interval=0.1,
            )
        latencies = []
        for entry_id, fields in client.xrange(settings.articles_stream):
            url = json.loads(fields["data"])["url"]
            if url in appeared:
                latencies.append(int(entry_id.split("-")[0]) / 1000 - appeared[url])
        client.close()
    return latencies


def run(*, items: int, gap: float, interval: float, together: bool = False) -> str:
    """The push run, then the polling run (``together``: at once, for a smoke run)."""
    with ThreadPoolExecutor(2 if together else 1) as pool:
        runs = [
            pool.submit(one_run, push, items=items, gap=gap, interval=interval)
            for push in (True, False)
        ]
        pushed, polled = (future.result() for future in runs)
    rows: list[list[object]] = [
        [name, len(v), percentile(v, 50), percentile(v, 95), max(v) if v else 0.0]
        for name, v in (("WebSub push", pushed), (f"polling only, every {interval:g} s", polled))
    ]
    return table(
        f"Freshness with push: 1 feed, {items} items {gap:g} s apart",
        ["source", "items", "p50 s", "p95 s", "max s"],
        rows,
        f"HEADLINE push p50 {percentile(pushed, 50):.2f} s, p95 {percentile(pushed, 95):.2f} s"
        f" (target p95 <= 2 s); polling every {interval:g} s: p50 "
        f"{percentile(polled, 50):.2f} s, p95 {percentile(polled, 95):.2f} s",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--gap", type=float, default=2.0)
    parser.add_argument("--interval", type=float, default=10.0, help="poll interval, polling only")
    parser.add_argument(
        "--smoke", action="store_true", help="2 items, polling every 1 s, both runs at once"
    )
    args = parser.parse_args()
    if args.smoke:
        args.items, args.gap, args.interval = 2, 0.3, 1.0
    print(
        run(items=args.items, gap=args.gap, interval=args.interval, together=args.smoke),
        flush=True,
    )


if __name__ == "__main__":
    main()
