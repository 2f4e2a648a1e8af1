"""Sitemaps as sources: CPU and memory per poll, and the tasks enqueued on the first poll.

    python -m bench.sitemaps [--repeat N] [--smoke]

Each case runs in a fresh process: a real poller (``service.poller.Poller``, the one safe
fetcher, a private redis-server) polls sitemaps served from files by a stdlib HTTP server
(its own process, so its CPU is not counted); the enqueue function only counts (the broker
is not what is measured). Per case, the first poll of a newly registered sitemap is timed
``--repeat`` times (the feed removed and added again in between, so each poll reads
everything); CPU is the poller process's (its threads included), memory the growth of its
peak RSS over the baseline before the first poll.

- ``news``: a Google News sitemap of 1,000 entries, all of the last two days;
- ``index``: a sitemap index of 50 children x 1,000 URLs (50,000 URLs) dated one hour
  apart over 5.7 years, children dated by their newest URL: only what is new is fetched;
- ``index-undated``: the same index without child dates: the newest
  ``sitemap_max_children`` (20) children, 20,000 URLs, fetched and parsed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import REPO, median, redis_server, table
from service.embedded_redis import free_port
from tests.support.sitemapgen import index, news_url, plain_url, urlset

CASES = ("news", "index", "index-undated")


def write_files(root: Path, *, children: int, per_child: int, news: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    base = "http://127.0.0.1:{port}"
    (root / "news.xml").write_text(
        urlset(
            news_url(f"{base}/n/{i}", title=f"Story {i}", published=now - timedelta(minutes=2 * i))
            for i in range(news)
        )
    )
    dated, undated = [], []
    for c in range(children):
        first = c * per_child
        urls = (
            plain_url(f"{base}/a/{k}", lastmod=now - timedelta(hours=k))
            for k in range(first, first + per_child)
        )
        (root / f"child-{c}.xml").write_text(urlset(urls))
        dated.append((f"{base}/child-{c}.xml", now - timedelta(hours=first)))
        undated.append((f"{base}/child-{c}.xml", None))
    (root / "index.xml").write_text(index(dated))
    (root / "index-undated.xml").write_text(index(undated))


def serve(root: Path, port: int) -> subprocess.Popen[bytes]:
    for path in root.glob("*.xml"):  # the port is known now
        path.write_text(path.read_text().replace("{port}", str(port)))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import urllib.request

    deadline = time.monotonic() + 10
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/news.xml", timeout=1).close()
            return proc
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


async def poll_case(url: str, redis_url: str, repeat: int) -> dict[str, float]:
    import redis

    from service.fetching import AsyncFetcher
    from service.poller import Claim, Poller
    from service.registry import Registry
    from service.settings import Settings
    from service.streams import Streams

    settings = Settings(redis_url=redis_url, allowed_networks="127.0.0.0/8")  # type: ignore[arg-type]
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    registry = Registry(client, settings)
    sent: list[str] = []
    cpu: list[float] = []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with AsyncFetcher(settings) as fetcher:
        poller = Poller(
            settings, registry, Streams(client, settings), fetcher, lambda u, _f, _e: sent.append(u)
        )
        for _ in range(repeat):
            registry.remove(url)
            registry.add(url, None, now=0)
            sent.clear()
            ids, lease = registry.claim_due(1, owner="bench")
            started = time.process_time()
            outcome = await poller.poll(Claim(ids[0], "", lease))
            cpu.append(time.process_time() - started)
            assert outcome == "fetched", outcome
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    client.close()
    return {"cpu": median(cpu), "rss_mib": (peak - rss_before) / 1024, "tasks": len(sent)}


def child(case: str, port: int, redis_url: str, repeat: int) -> None:
    result = asyncio.run(poll_case(f"http://127.0.0.1:{port}/{case}.xml", redis_url, repeat))
    print(json.dumps(result))


def measure(case: str, port: int, redis_url: str, repeat: int, *, fresh: bool) -> dict[str, float]:
    """One case, in a fresh process (``fresh``) or, for a smoke run, in this one."""
    if not fresh:
        url = f"http://127.0.0.1:{port}/{case}.xml"
        return asyncio.run(poll_case(url, redis_url, repeat))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.sitemaps",
            "--child",
            case,
            "--port",
            str(port),
            "--redis",
            redis_url,
            "--repeat",
            str(repeat),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def run(*, repeat: int, children: int, per_child: int, news: int, fresh: bool = True) -> str:
    root = Path(tempfile.mkdtemp(prefix="nw-bench-sitemaps-"))
    write_files(root, children=children, per_child=per_child, news=news)
    port = free_port()
    server = serve(root, port)
    rows: list[list[object]] = []
    try:
        with redis_server() as redis_srv:
            for case in CASES:
                got = measure(case, port, redis_srv.url, repeat, fresh=fresh)
                rows.append([case, got["tasks"], got["cpu"] * 1000, got["rss_mib"]])
    finally:
        server.terminate()
        server.wait(timeout=10)
    by = {row[0]: row for row in rows}
    return table(
        f"Sitemap polls: news {news} entries; index {children} x {per_child} URLs "
        f"(median of {repeat} first polls)",
        ["case", "tasks on first poll", "CPU ms / poll", "peak RSS growth MiB"],
        rows,
        f"HEADLINE first poll: news sitemap {by['news'][1]} tasks in {by['news'][2]:.0f} ms "
        f"CPU; {children * per_child:,}-URL index {by['index'][1]} tasks in "
        f"{by['index'][2]:.0f} ms (undated children: {by['index-undated'][1]} tasks, "
        f"{by['index-undated'][2]:.0f} ms)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--smoke", action="store_true", help="small sitemaps, one poll, all in this process"
    )
    parser.add_argument("--child", choices=CASES)
    parser.add_argument("--port", type=int)
    parser.add_argument("--redis")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.port, args.redis, args.repeat)
        return
    if args.smoke:
        print(run(repeat=1, children=5, per_child=100, news=50, fresh=False), flush=True)
    else:
        print(run(repeat=args.repeat, children=50, per_child=1000, news=1000), flush=True)


if __name__ == "__main__":
    main()
