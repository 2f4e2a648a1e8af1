"""A fast local origin for the benchmarks: a raw asyncio HTTP/1.1 server in its own process.

    python -m bench.origin --port P --hosts H [--corpus DIR] [--timed-feeds N ...]

``tests/support/origin.py`` (a ThreadingHTTPServer: one thread per connection, rich
misbehaviour) tops out at a few hundred requests per second; the poller benchmark needs
thousands, and the origin's own CPU must not be mistaken for the poller's. This one answers
from memory on a keep-alive connection with a minimal parser, listens on ``127.0.0.1`` ..
``127.0.0.H`` (so the poller sees H distinct hosts and its per-host bound does not serialise
the run), and reports its own request count and CPU time at ``/_stats``.

Routes (every URL the feeds list is served too):
- ``/page/<key>/<corpus page>``: the corpus page's HTML (any ``<key>``: one URL per article);
- ``/feed/static/<n>.xml``: a fixed 50-item RSS feed with an ETag (304 on ``If-None-Match``);
- ``/feed/changing/<n>.xml``: 50 items that move on by one at every request (new body, new
  ETag: one new entry per poll);
- ``/feed/news/<n>.xml``: the same with a realistic news feed (``news_feed``: about 2 KB of
  ``content:encoded`` an item, ≈ 150 KB a document, a new ``lastBuildDate`` each time);
- ``/feed/timed/<n>.xml``: item k appears at ``t0 + phase(n) + k * gap``; the newest 20
  visible items, 304 while none appeared; ``/_stats`` tells when each item was first served
  in the feed, and when its page was first fetched.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import socket
import time
import zlib
from email.utils import formatdate
from pathlib import Path

FEED_ITEMS = 50
TIMED_WINDOW = 20
SUMMARY = (
    "The council met on Tuesday to discuss the harbour budget; residents asked about "
    "the storm damage to the railway bridge and the market, and were told that repairs "
    "would start before the winter."
)


def page_names(corpus: Path | None) -> list[str]:
    if corpus is None:
        return ["page"]
    return sorted(p.name.removesuffix(".html.gz") for p in corpus.glob("*.html.gz"))


def item_xml(base: str, feed: str, k: int, page: str, when: float) -> str:
    link = f"{base}/page/{feed}-{k}/{page}"
    return (
        f"<item><title>Story {k} of feed {feed}: the harbour budget</title>"
        f'<link>{link}</link><guid isPermaLink="true">{link}</guid>'
        f"<pubDate>{formatdate(when, usegmt=True)}</pubDate>"
        f"<description>{SUMMARY}</description></item>"
    )


def rss(base: str, feed: str, items: list[tuple[int, float]], pages: list[str]) -> bytes:
    """An RSS 2.0 document listing ``items`` (index, publication time), newest first."""
    first = zlib.crc32(feed.encode())
    body = "".join(
        item_xml(base, feed, k, pages[(first + k) % len(pages)], when)
        for k, when in sorted(items, reverse=True)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {feed}</title><link>{base}/</link><description>bench</description>"
        f"{body}</channel></rss>"
    ).encode()


def static_feed(base: str, n: int, pages: list[str]) -> bytes:
    start = 1_700_000_000.0
    return rss(base, f"s{n}", [(k, start + 600 * k) for k in range(FEED_ITEMS)], pages)


def changing_feed(base: str, n: int, version: int, pages: list[str]) -> bytes:
    """Version v lists items v .. v+49 (so every request brings one new item)."""
    start = 1_700_000_000.0
    items = range(version, version + FEED_ITEMS)
    return rss(base, f"c{n}", [(k, start + 600 * k) for k in items], pages)


NEWS_PARAGRAPH = (
    "<p>The harbour committee heard from {who} on the storm damage to the railway "
    "bridge, the market hall and the sea wall, and on what the repairs will cost "
    'the town over the <a href="{base}/budget/{k}">next three years</a>.</p>'
)
NEWS_PEOPLE = ("residents", "the engineers", "the mayor", "two shop owners", "the ferry company")


def news_item_xml(base: str, feed: str, k: int, page: str, when: float) -> str:
    """One item of a realistic news feed: title, link, guid, dates, author, categories, a
    summary, an image and about 2 KB of ``content:encoded``."""
    link = f"{base}/page/{feed}-{k}/{page}"
    paragraphs = "".join(
        NEWS_PARAGRAPH.format(who=NEWS_PEOPLE[(k + i) % 5], base=base, k=k) for i in range(9)
    )
    content = (
        f'<figure><img src="{base}/img/{k}.jpg" alt="The bridge"/></figure>'
        f"<h2>Story {k}</h2>{paragraphs}"
    )
    return (
        f"<item><title>Story {k} of feed {feed}: the harbour budget</title>"
        f'<link>{link}</link><guid isPermaLink="false">{feed}-story-{k}</guid>'
        f"<pubDate>{formatdate(when, usegmt=True)}</pubDate>"
        f"<dc:creator>Ann Reporter</dc:creator><category>Local</category>"
        f"<category>Harbour</category><description>{SUMMARY}</description>"
        f'<media:content url="{base}/img/{k}.jpg" medium="image"/>'
        f"<content:encoded><![CDATA[{content}]]></content:encoded></item>"
    )


def news_feed(base: str, n: int, version: int, pages: list[str]) -> bytes:
    """Version v of a realistic news feed: items v .. v+49, newest first, built at v."""
    start = 1_700_000_000.0
    first = zlib.crc32(f"n{n}".encode())
    body = "".join(
        news_item_xml(base, f"n{n}", k, pages[(first + k) % len(pages)], start + 600 * k)
        for k in range(version + FEED_ITEMS - 1, version - 1, -1)
    )
    built = formatdate(start + 600 * (version + FEED_ITEMS), usegmt=True)
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title>News {n}</title><link>{base}/</link><description>bench news</description>"
        f"<language>en</language><lastBuildDate>{built}</lastBuildDate><ttl>5</ttl>"
        f"{body}</channel></rss>"
    ).encode()


class Timed:
    """Feeds whose items appear on a schedule (the freshness benchmark)."""

    def __init__(self, feeds: int, t0: float, gap: float, seed: int) -> None:
        rng = random.Random(seed)
        self.t0, self.gap = t0, gap
        self.phase = [rng.uniform(0, gap) for _ in range(feeds)]
        self.first_served: dict[str, float] = {}
        self.page_served: dict[str, float] = {}

    def appeared(self, n: int, k: int) -> float:
        return self.t0 + self.phase[n] + k * self.gap

    def visible(self, n: int, now: float) -> int:
        """How many items of feed ``n`` have appeared by ``now``."""
        if now < self.t0 + self.phase[n]:
            return 0
        return int((now - self.t0 - self.phase[n]) // self.gap) + 1


class App:
    def __init__(self, corpus: Path | None, timed: Timed | None) -> None:
        self.corpus = corpus
        self.pages = page_names(corpus)
        self.html: dict[str, bytes] = {}
        self.timed = timed
        self.versions: dict[str, int] = {}
        self.cache: dict[tuple[str, str], bytes] = {}
        self.requests = 0
        self.statuses: dict[int, int] = {}

    def page(self, name: str) -> bytes | None:
        if name not in self.html:
            if self.corpus is None or name not in self.pages:
                return None
            self.html[name] = gzip.decompress((self.corpus / f"{name}.html.gz").read_bytes())
        return self.html[name]

    def handle(self, path: str, host: str, inm: str | None) -> tuple[int, dict[str, str], bytes]:
        base = f"http://{host}"
        parts = path.split("?", 1)[0].split("/")
        if len(parts) == 4 and parts[1] == "page":
            if self.timed is not None and parts[2].startswith("t"):
                self.timed.page_served.setdefault(parts[2], time.time())
            body = self.page(parts[3])
            if body is not None:
                return 200, {"Content-Type": "text/html"}, body
        elif len(parts) == 4 and parts[1] == "feed" and parts[3].endswith(".xml"):
            return self.feed(parts[2], int(parts[3][:-4]), base, inm)
        elif path == "/_stats":
            return 200, {"Content-Type": "application/json"}, json.dumps(self.stats()).encode()
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def feed(
        self, kind: str, n: int, base: str, inm: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        rss_type = {"Content-Type": "application/rss+xml"}
        if kind == "static":
            etag = f'"s{n}"'
            if inm == etag:
                return 304, {"ETag": etag}, b""
            key = (base, f"s{n}")
            if key not in self.cache:
                self.cache[key] = static_feed(base, n, self.pages)
            return 200, {**rss_type, "ETag": etag}, self.cache[key]
        if kind in ("changing", "news"):
            key = f"{base}/{kind[0]}{n}"
            version = self.versions[key] = self.versions.get(key, 0) + 1
            make = changing_feed if kind == "changing" else news_feed
            return (
                200,
                {**rss_type, "ETag": f'"{kind[0]}{n}-{version}"'},
                make(base, n, version, self.pages),
            )
        if kind == "timed" and self.timed is not None:
            return self.timed_feed(n, base, inm)
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def timed_feed(self, n: int, base: str, inm: str | None) -> tuple[int, dict[str, str], bytes]:
        assert self.timed is not None
        now = time.time()
        count = self.timed.visible(n, now)
        etag = f'"t{n}-{count}"'
        if inm == etag:
            return 304, {"ETag": etag}, b""
        ks = range(max(0, count - TIMED_WINDOW), count)
        for k in ks:
            self.timed.first_served.setdefault(f"t{n}-{k}", now)
        items = [(k, self.timed.appeared(n, k)) for k in ks]
        return (
            200,
            {"Content-Type": "application/rss+xml", "ETag": etag},
            rss(base, f"t{n}", items, self.pages),
        )

    def stats(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "cpu": time.process_time(),
            "statuses": self.statuses,
            "first_served": self.timed.first_served if self.timed else {},
            "page_served": self.timed.page_served if self.timed else {},
        }


class Http(asyncio.Protocol):
    """HTTP/1.1 GET with keep-alive; nothing else."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 65536:
                    self.transport.close()
                return
            head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4 :]
            self.respond(head)

    def respond(self, head: str) -> None:
        assert self.transport is not None
        lines = head.split("\r\n")
        path = lines[0].split(" ")[1] if lines[0].count(" ") >= 2 else "/"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.app.requests += 1
        status, extra, body = self.app.handle(
            path, headers.get("host", "127.0.0.1"), headers.get("if-none-match")
        )
        self.app.statuses[status] = self.app.statuses.get(status, 0) + 1
        out = [
            f"HTTP/1.1 {status} X",
            f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in extra.items()),
            "",
            "",
        ]
        self.transport.write("\r\n".join(out).encode("latin-1") + body)


async def serve(args: argparse.Namespace) -> None:
    timed = Timed(args.timed_feeds, args.t0, args.gap, args.seed) if args.timed_feeds else None
    app = App(Path(args.corpus) if args.corpus else None, timed)
    loop = asyncio.get_running_loop()
    servers = []
    for i in range(args.hosts):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((f"127.0.0.{i + 1}", args.port))
        servers.append(await loop.create_server(lambda: Http(app), sock=sock, backlog=1024))
    print("ready", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hosts", type=int, default=1)
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--timed-feeds", type=int, default=0)
    parser.add_argument("--t0", type=float, default=0.0)
    parser.add_argument("--gap", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
