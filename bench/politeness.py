"""Per-host politeness of article fetches: what one site sees on the first poll of a feed.

    python -m bench.politeness [--pages 40] [--workers 2] [--concurrency 3] [--delay 0.25]

One feed of ``--pages`` items on the local test origin (one host, each page answering after
``--delay`` s), a real poller and ``--workers`` ``newswire worker`` processes of
``--concurrency`` pool processes each, a private redis-server. Run twice: with no per-host
limit (``NEWSWIRE_ARTICLE_PER_HOST`` above the worker count: what newswire did before the
limit existed) and with the default limit of 2. Reported: the most requests the origin was
answering at once (robots.txt included), the time from the feed's poll to the last article,
and the articles published.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import redis

from bench.common import Role, bench_env, redis_server, table, wait_until, worker
from service.registry import Registry
from service.settings import Settings
from tests.support.origin import Origin
from tests.support.sitegen import article_html, rss_feed


def run(per_host: int, args: argparse.Namespace, log_dir: Path) -> list[object]:
    with redis_server() as server, Origin() as origin:
        base = origin.url("")
        for i in range(args.pages):
            origin.add(f"/news/{i}", article_html(i, base=base), delay=args.delay)
        origin.add(
            "/feed.xml",
            rss_feed(list(range(args.pages)), base=base),
            content_type="application/rss+xml",
        )
        settings = Settings(redis_url=server.url)
        client = redis.Redis.from_url(server.url)
        Registry(client, settings).add(origin.url("/feed.xml"), None, now=0)
        env = bench_env(
            server.url,
            article_per_host=per_host,
            fetch_timeout=20,
            task_soft_time_limit=120,
            task_time_limit=130,
            article_host_wait=90,
        )
        dirs = [log_dir / f"limit{per_host}-worker{n}" for n in range(args.workers)]
        for path in dirs:
            path.mkdir()
        workers = [worker(env, args.concurrency, path) for path in dirs]
        try:
            with Role(["poller"], env, log_dir / f"poller-{per_host}.log"):
                wait_until(
                    lambda: client.xlen(settings.articles_stream) >= args.pages,
                    timeout=300,
                    what=f"{args.pages} articles",
                    interval=0.1,
                )
                done = time.monotonic()
        finally:
            for role in workers:
                role.close()
        polled = origin.times("/feed.xml")[0]
        label = f"{per_host} (default)" if per_host == 2 else f"none ({per_host})"
        return [
            label,
            origin.peak_total(),
            round(done - polled, 1),
            int(client.xlen(settings.articles_stream)),
        ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.25)
    args = parser.parse_args()
    processes = args.workers * args.concurrency
    log_dir = Path(tempfile.mkdtemp(prefix="nw-bench-polite-"))
    rows = [run(per_host, args, log_dir) for per_host in (processes * 10, 2)]
    print(
        table(
            f"Article fetches per host: {args.pages}-item feed, one host, {args.workers} workers "
            f"x {args.concurrency} processes, pages answering in {args.delay:g} s",
            [
                "per-host limit",
                "peak concurrent requests at the host",
                "poll -> last article (s)",
                "articles",
            ],
            rows,
            f"peak concurrent requests per host: {rows[0][1]} without a limit, {rows[1][1]} with "
            "NEWSWIRE_ARTICLE_PER_HOST=2",
        )
    )
    return 0 if rows[1][1] <= 2 and all(r[3] == args.pages for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
