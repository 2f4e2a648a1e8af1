"""Hostile input: what newswire does with each attack of the project's issue, measured.

    python -m bench.hostile [--smoke] [--only NAME|NUMBER ...]
    python -m bench.hostile --pipeline

``--pipeline`` runs the hostile article pages through the whole service instead (a real
poller, worker and Redis, deployed defaults) and shows each one dead-lettered within 60 s of
the poll that found it (``bench/hostile_pipeline.py``).

Cases use newswire's public functions: ``parse_feed``, ``extract_article`` and the sync
``Fetcher`` against the test origin (``tests.support.origin``, 127.0.0.1, same process), with
127.0.0.0/8 allowed and a 3 s fetch deadline; the address spellings (13) use a default-settings
fetcher (no allow-list). A full run starts a fresh child process per case (``--child NAME``);
``--smoke`` runs all cases in one child on smaller inputs (64 MiB bombs, 6 MB pages, 12 MB
feeds, 2,000 items, 20,000 divs, 1 s deadline).

Per case: a normal item (warm-up), the input is built, the call alone is timed, then the normal
item again in the same process with the same fetcher ("next normal item ok"): fetch a normal
feed from the origin, parse it, fetch and extract its first entry's page (after a case 13 via
the allow-listed fetcher; "origin hits 0" shows the refused fetch never connected).

- outcome: ``ErrorClass: reason`` (``service.errors``) or ``ok: ...`` with what was checked in
  the output; any other exception is a CRASH. A case must also end within its bound.
- +MiB: peak RSS during the call minus RSS just before it (VmHWM reset to the current RSS via
  ``/proc/self/clear_refs`` before the call, read from ``/proc/self/status`` after), so the
  input is not counted; peak MiB: that VmHWM, interpreter, libraries and input included.
  The origin serves from threads of the same process: its work (compressing a bomb on the
  fly while the fetcher reads it) is in the time and memory of the case.

Exit status 1 when a case is not handled as expected or the normal item after it failed.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import re
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import REPO, mib, table
from service.addresses import ip_literal
from service.errors import IngestError
from service.extraction import extract_article
from service.feeds import parse_feed
from service.fetching import AddressGuard, Fetcher
from service.models import Article, FetchedPage, ParsedFeed
from service.settings import Settings
from tests.support.origin import Origin

# number, name, expected (a | b), bound (s), hostile input
CASE_TABLE = """
1    quadratic         hostile_content     10  quadratic-entity feed, 110 KB: 50 KB entity x 20,000
2    laughs            hostile_content     10  billion laughs feed (10 levels of 10 entities)
3    xxe               hostile_content     10  entity SYSTEM "file:///etc/passwd" in a feed
4    gzip-bomb         too_large           10  gzip bomb feed: 1 GiB of zeros in ~1 MB, fetched
5    deflate-bomb      too_large           10  deflate (zlib) bomb feed, 1 GiB of zeros, fetched
5b   raw-deflate-bomb  too_large           10  raw deflate bomb feed, 1 GiB of zeros, fetched
6a   page-20mb         too_large           10  20 MB page with Content-Length, fetched
6b   page-20mb-chunked too_large           10  20 MB page, chunked (no length), fetched
6c   page-20mb-extract ok|extraction_empty 10  20 MB page -> extract_article (no byte cap)
7    nested            hostile_content     10  100,000 nested <div>s -> extract_article
8    drip              timeout             4.5 feed body dripping 1 byte a second, fetched
9a   redirect-metadata blocked_address     10  redirect to http://169.254.169.254/latest/...
9b   redirect-private  blocked_address     10  redirect to another host, http://10.0.0.1/feed
9c   redirect-ipv6     blocked_address     10  redirect to http://[::1]:<port>/ (not allowed)
10a  links-schemes     ok                  10  javascript:, data:, file: links in feed items
10b  links-private     ok                  10  private/loopback links in feed images, content
10c  links-page        ok                  10  unsafe + private URLs in a page's metadata
11a  controls-rss      ok                  10  invalid UTF-8, NUL, control bytes in RSS titles
11b  controls-json     ok                  10  invalid UTF-8, \\u0000, controls in JSON Feed titles
11c  surrogate-json    ok|parse_error      10  lone surrogate escape \\ud800 in a JSON Feed title
12a  feed-50mb         too_large           10  50 MB feed -> parse_feed
12b  feed-50mb-fetched too_large           10  50 MB feed, chunked (no length), fetched
12c  items-10000       ok                  10  feed of 10,000 items -> parse_feed (max_items 200)
12d  html-as-feed      not_a_feed          10  HTML page served as a feed, fetched
12e  empty-feed        not_a_feed          10  empty body served as a feed, fetched
12f  json-not-feed     not_a_feed          10  JSON that is no JSON Feed, fetched
13a  address-decimal   blocked_address     10  http://2130706433:<port>/, default settings
13b  address-octal     blocked_address     10  http://0177.0.0.1:<port>/, default settings
13c  address-short     blocked_address     10  http://127.1:<port>/, default settings
13d  address-mapped    blocked_address     10  http://[::ffff:127.0.0.1]:<port>/, defaults
13e  address-ula       blocked_address     10  http://[fd00::1]:<port>/, default settings
13f  address-metadata  blocked_address     10  http://169.254.169.254/, default settings
13g  address-localhost blocked_address     10  http://localhost:<port>/, default settings
"""
FEED_URL = "https://feeds.example.com/feed.xml"
PAGE_URL = "https://news.example.com/2026/03/harbour-wall-approved"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
PARAGRAPH = (
    "The committee met on Thursday to discuss the future of the river crossing, which has "
    "been closed to lorries since an inspection found cracks in two of its supporting piers. "
)
DOCTYPE = "<!DOCTYPE rss [{}]>"
LAUGHS = '<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "{f"&lol{i - 1 or str()};" * 10}">' for i in range(1, 10)
)
QUADRATIC = DOCTYPE.format(f'<!ENTITY a "{"x" * 50_000}">')
XXE = DOCTYPE.format('<!ENTITY x SYSTEM "file:///etc/passwd">')
UNSAFE_SCHEMES = "javascript:alert(1) JaVaScRiPt:alert(2) data:text/html,<b>x</b> file:///etc/x"
PRIVATE_LINKS = "http://127.0.0.1/a http://169.254.169.254/m http://10.0.0.1/x http://[::1]/x"
PRIVATE_LINKS += " http://2130706433/x http://localhost/x http://[fd00::1]/x"
UTF8_ITEM = "<item><title>Zürich, São Paulo, Kraków, Đà Nẵng, naïve café</title></item>"
TITLE = "Café — ".encode() + b"a\x00b\x01c\x07d\x08e\x0bf\x0cg\x1bh\x1fi\x7fj"
TITLE += b" \xff\xfe \xc0\x80 end"  # invalid UTF-8: stray bytes, an overlong NUL
JSON_TITLE = b"Caf\xc3\xa9 a\\u0000b\\u0001c\\u001bd\\u007fe\\u0085f\\u2028g \xff\xfe\xc0\x80 end"
JSON_FEED = b'{"version": "https://jsonfeed.org/version/1.1", "title": "%s", "items": [{"id": "1", '
JSON_FEED += b'"title": "%s"}]}'
DEFAULT_GUARD = AddressGuard()
RSS = "application/rss+xml"
# C0/C1 controls (tab and newline too: not in a title), surrogates, noncharacters
_BAD_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_LINK_ATTR = re.compile(r'(?:href|src|action|poster|srcset)\s*=\s*"([^"]*)"', re.I)


@dataclass(frozen=True)
class Done:
    """What a call gave back when newswire did not raise; ``good``: its output checks out."""

    text: str
    good: bool = True


Call = Callable[[], Done]


@dataclass(frozen=True)
class Case:
    number: str
    name: str
    expected: str  # reason codes or "ok", separated by "|"
    bound: str  # seconds: slower is a failure
    what: str


@dataclass(frozen=True)
class Row:
    name: str
    outcome: str
    passed: bool
    seconds: float
    added: int
    peak: int
    next_ok: bool


CASES = [Case(*line.split(None, 4)) for line in CASE_TABLE.strip().splitlines()]


# --- documents and checks of what comes out --------------------------------------------------
def rss(items: str, prologue: str = "", title: str = "t") -> bytes:
    head = f'<?xml version="1.0" encoding="utf-8"?>{prologue}<rss version="2.0" xmlns:content='
    channel = f"<title>{title}</title><link>https://news.example.com/</link>{items}"
    return f'{head}"{CONTENT_NS}"><channel>{channel}</channel></rss>'.encode()


def item(title: str, link: str = PAGE_URL, extra: str = "") -> str:
    return f"<item><title>{title}</title><link>{link}</link>{extra}</item>"


def article_html(body: str = "", head: str = "") -> str:
    story = "".join(f"<p>{PARAGRAPH * 2}({i})</p>" for i in range(6))
    title = "<title>Harbour wall approved</title>"
    body = f"<article><h1>Harbour wall approved</h1>{story}{body}</article>"
    return f"<!doctype html><html lang='en'><head>{title}{head}</head><body>{body}</body></html>"


def big_page(size: int) -> bytes:
    """A story followed by related-story blocks, ``size`` bytes in all."""
    block = f'<div class="related"><a href="/more">Another story</a><p>{PARAGRAPH}</p></div>'
    start, end = article_html().split("</article>")
    return (start + block * ((size - len(start)) // len(block)) + "</article>" + end).encode()


def feed_text(feed: ParsedFeed) -> str:
    return f"ok: {len(feed.entries)} entries"


def unsafe(url: str) -> bool:
    """Not http(s), or a host that is a non-public address (any spelling) or localhost."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return True
    address = ip_literal(host)
    refused = address is not None and DEFAULT_GUARD.refusal(address) is not None
    return parts.scheme.lower() not in ("http", "https") or host == "localhost" or refused


def links_verdict(links: list[str]) -> Done:
    left = [link for link in links if unsafe(link)]
    shown = f": {' '.join(sorted(set(left)))[:160]}" if left else ""
    return Done(f"ok: {len(links)} links out, {len(left)} unsafe left{shown}", good=not left)


def article_links(article: Article) -> Done:
    return links_verdict([u for u in (article.url, article.canonical_url, article.image) if u])


def links_feed(bad: list[str], *, with_entry_link: bool = True) -> Call:
    """Unsafe links in item links, enclosures and content: what is left of them? An item's
    own link to a private host is kept on purpose (the fetcher refuses it with a
    ``blocked_address`` dead letter, cases 13*), so ``with_entry_link=False`` skips it."""
    svg = '<svg xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="{0}">s</a></svg>'
    tags = '<a href="{0}">a</a><img src="{0}"><form action="{0}"><input></form>' + svg
    html = "".join(f"<p>{tags.format(u)}</p>" for u in bad) + '<a href="https://ok.example/">k</a>'
    body = f"<description><![CDATA[{html}]]></description>"
    body += f"<content:encoded><![CDATA[{html}]]></content:encoded>"
    enclosure = '<enclosure url="{}" type="image/png"/>'
    content = rss("".join(item(f"t{i}", u, enclosure.format(u) + body) for i, u in enumerate(bad)))

    def call() -> Done:
        links: list[str] = []
        for entry in parse_feed(content, url=FEED_URL).entries:
            own = entry.url if with_entry_link else None
            links += [url for url in (own, entry.image) if url]
            links += _LINK_ATTR.findall(entry.content_html or "")
        return links_verdict(links)

    return call


def controls(content: bytes) -> Call:
    """Parse a feed whose channel and entry titles end with "end"; what is left of them?"""

    def call() -> Done:
        feed = parse_feed(content, url=FEED_URL)
        found = [t for t in (feed.title, *(e.title for e in feed.entries)) if t]
        titles = [t for t in found if t.endswith("end")]
        text = "".join(titles)
        left, fffd = len(_BAD_CHARS.findall(text)), text.count("\ufffd")
        shown = f"{left} control/invalid chars left, {fffd} U+FFFD, {len(titles)} titles"
        return Done(f"ok: {shown}: {text[:22]!r}", good=left == 0 and len(titles) == 2)

    return call


# --- the world of one child: origin, fetchers, and how cases use them ----------------------
@dataclass
class Lab:
    origin: Origin
    settings: Settings
    fetcher: Fetcher  # allow-listed 127.0.0.0/8
    default_fetcher: Fetcher  # default settings
    smoke: bool
    note: str = ""

    def size(self, full: int, smoke: int) -> int:
        return smoke if self.smoke else full

    def parse(self, content: bytes) -> Call:
        items, size = self.settings.max_items_per_poll, self.settings.max_feed_bytes
        return lambda: Done(
            feed_text(parse_feed(content, url=FEED_URL, max_items=items, max_bytes=size))
        )

    def fetch_feed(self, path: str) -> ParsedFeed:
        got = self.fetcher.fetch(self.origin.url(path), kind="feed")
        limit = self.settings.max_items_per_poll
        return parse_feed(got.content, url=got.url, content_type=got.content_type, max_items=limit)

    def served(self, path: str, body: bytes = b"", ctype: str = RSS, **how: Any) -> Call:
        """Serve ``body`` (or a ``stream``) at ``path``; the call fetches and parses it."""
        self.origin.add(path, body, content_type=ctype, **how)
        return lambda: Done(feed_text(self.fetch_feed(path)))

    def bomb(self, path: str, wbits: int, coding: str) -> Call:
        """Zeros (1 GiB; 64 MiB in smoke) compressed on the fly as the client reads (1 KB/MiB)."""

        def chunks() -> Iterator[bytes]:
            comp, block = zlib.compressobj(9, zlib.DEFLATED, wbits), bytes(1 << 20)
            for _ in range(self.size(1024, 64)):
                if out := comp.compress(block):
                    yield out
            yield comp.flush()

        return self.served(path, headers={"Content-Encoding": coding}, stream=chunks)

    def padded_feed(self) -> Call:
        pad = itertools.repeat(b" " * 65_536, self.size(50_000_000, 12_000_000) // 65_536)
        return self.served("/50mb.xml", stream=lambda: itertools.chain([rss(item("x"))], pad))

    def big_page(self, path: str, **how: Any) -> Call:
        self.origin.add(path, big_page(self.size(20_000_000, 6_000_000)), **how)
        return lambda: Done(f"ok: {len(self.fetcher.fetch(self.origin.url(path)).content)} bytes")

    def extract(self, content: bytes, check: Callable[[Article], Done] | None = None) -> Call:
        now, chars = datetime.now(UTC), self.settings.min_text_chars
        page = FetchedPage(requested_url=PAGE_URL, url=PAGE_URL, content=content, fetched_at=now)
        depth = self.settings.max_html_depth

        def call() -> Done:
            article = extract_article(page, None, min_text_chars=chars, max_depth=depth)
            return check(article) if check else Done(f"ok: article, {article.word_count} words")

        return call

    def nested(self) -> Call:
        n = self.size(100_000, 20_000)
        return self.extract(b"<html><body>" + b"<div>" * n + b"x" + b"</div>" * n)

    def links_page(self) -> Call:
        ld = '{"@type": "NewsArticle", "image": "http://169.254.169.254/m", "url": "file:///x"}'
        head = '<link rel="canonical" href="javascript:alert(1)"><meta property="og:image" '
        head += 'content="http://10.0.0.1/x.png"><meta property="og:url" content="http://[::1]/">'
        head += f'<script type="application/ld+json">{ld}</script>'
        page = article_html('<img src="http://[::1]/x.png"><a href="data:text/html,x">x</a>', head)
        return self.extract(page.encode(), article_links)

    def many_items(self) -> Call:
        n, cap = self.size(10_000, 2_000), self.settings.max_items_per_poll
        content = rss("".join(item(f"story {i}", f"{PAGE_URL}/{i}") for i in range(n)))

        def call() -> Done:
            feed = parse_feed(content, url=FEED_URL, max_items=cap)
            return Done(f"{feed_text(feed)} of {n}", good=len(feed.entries) == cap)

        return call

    def redirect(self, location: str) -> Call:
        path = f"/redirect/{len(self.origin.routes)}"
        self.origin.redirect(path, location.replace("<port>", str(self.origin.port)))
        return lambda: Done(feed_text(self.fetch_feed(path)))

    def spelled(self, host: str) -> Call:
        """The normal feed through the default-settings fetcher, its host spelled so."""
        path = "/normal.xml"
        url = f"http://{host}:{self.origin.port}{path}"

        def call() -> Done:
            hits = self.origin.count(path)
            try:
                got = self.default_fetcher.fetch(url, kind="feed")
            finally:
                self.note = f"origin hits {self.origin.count(path) - hits}"
            return Done(f"ok: fetched {len(got.content)} bytes", good=False)

        return call

    def normal_item(self) -> bool:
        """A normal feed and its first page, through the same fetcher: still fine?"""
        try:
            feed = self.fetch_feed("/normal.xml")
            page = self.fetcher.fetch(feed.entries[0].url or "")
            chars = self.settings.min_text_chars
            article = extract_article(page, feed.entries[0], min_text_chars=chars)
        except Exception:
            return False
        return len(feed.entries) == 3 and article.word_count > 100


PREPARE: dict[str, Callable[[Lab], Call]] = {
    "quadratic": lambda lab: lab.parse(rss(item("&a;" * 20_000), QUADRATIC)),
    "laughs": lambda lab: lab.parse(rss(item("&lol9;"), DOCTYPE.format(LAUGHS))),
    "xxe": lambda lab: lab.parse(rss(item("&x;"), XXE)),
    "gzip-bomb": lambda lab: lab.bomb("/gzip.xml", zlib.MAX_WBITS | 16, "gzip"),
    "deflate-bomb": lambda lab: lab.bomb("/deflate.xml", zlib.MAX_WBITS, "deflate"),
    "raw-deflate-bomb": lambda lab: lab.bomb("/raw.xml", -zlib.MAX_WBITS, "deflate"),
    "page-20mb": lambda lab: lab.big_page("/big.html"),
    "page-20mb-chunked": lambda lab: lab.big_page("/big-chunked.html", chunked=True),
    "page-20mb-extract": lambda lab: lab.extract(big_page(lab.size(20_000_000, 6_000_000))),
    "nested": Lab.nested,
    "drip": lambda lab: lab.served("/drip.xml", rss(item("x")), drip=1.0, drip_chunk=1),
    "redirect-metadata": lambda lab: lab.redirect("http://169.254.169.254/latest/meta-data/"),
    "redirect-private": lambda lab: lab.redirect("http://10.0.0.1/feed"),
    "redirect-ipv6": lambda lab: lab.redirect("http://[::1]:<port>/normal.xml"),
    "links-schemes": lambda lab: links_feed(UNSAFE_SCHEMES.split()),
    "links-private": lambda lab: links_feed(PRIVATE_LINKS.split(), with_entry_link=False),
    "links-page": Lab.links_page,
    "controls-rss": lambda lab: controls(rss(item("@") + UTF8_ITEM, "", "@").replace(b"@", TITLE)),
    "controls-json": lambda lab: controls(JSON_FEED % (JSON_TITLE, JSON_TITLE)),
    "surrogate-json": lambda lab: controls(JSON_FEED % (b"a\\ud800b end", b"a\\ud800b end")),
    "feed-50mb": lambda lab: lab.parse(rss(item("x")) + b" " * lab.size(50_000_000, 12_000_000)),
    "feed-50mb-fetched": Lab.padded_feed,
    "items-10000": Lab.many_items,
    "html-as-feed": lambda lab: lab.served("/html.xml", article_html().encode(), "text/html"),
    "empty-feed": lambda lab: lab.served("/empty.xml"),
    "json-not-feed": lambda lab: lab.served("/api.json", b'{"data": [1, 2]}', "application/json"),
    "address-decimal": lambda lab: lab.spelled("2130706433"),
    "address-octal": lambda lab: lab.spelled("0177.0.0.1"),
    "address-short": lambda lab: lab.spelled("127.1"),
    "address-mapped": lambda lab: lab.spelled("[::ffff:127.0.0.1]"),
    "address-ula": lambda lab: lab.spelled("[fd00::1]"),
    "address-metadata": lambda lab: lab.spelled("169.254.169.254"),
    "address-localhost": lambda lab: lab.spelled("localhost"),
}


# --- the child: run cases, print one JSON line each ------------------------------------------
def memory(field: str) -> int:
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM), in bytes."""
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(found.group(1)) * 1024 if found else 0


def attempt(spec: Case, call: Call, base: str) -> tuple[str, bool]:
    """The outcome of a call (the error's detail shortened, ``base`` URL removed) and whether
    it is the expected one."""
    expected = spec.expected.split("|")
    try:
        done = call()
    except IngestError as exc:
        detail = " ".join(exc.detail.replace(base, "/").split())[:80]
        return f"{type(exc).__name__}: {exc.reason.value} ({detail})", exc.reason in expected
    except Exception as exc:
        return f"CRASH {type(exc).__name__}: {' '.join(str(exc).split())}"[:160], False
    return done.text, "ok" in expected and done.good


def run_case(lab: Lab, spec: Case) -> Row:
    warm = lab.normal_item()
    call, lab.note = PREPARE[spec.name](lab), ""
    gc.collect()
    before = memory("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM (peak RSS) := current RSS
    start = time.perf_counter()
    outcome, passed = attempt(spec, call, lab.origin.url("/"))
    seconds, peak = time.perf_counter() - start, memory("VmHWM")
    outcome += f" [{lab.note}]" if lab.note else ""
    if seconds > float(spec.bound):
        outcome, passed = f"{outcome} (over the {spec.bound} s bound)", False
    next_ok = warm and lab.normal_item()
    return Row(spec.name, outcome, passed, seconds, max(peak - before, 0), peak, next_ok)


def child(names: list[str], smoke: bool) -> None:
    deadline = 1.0 if smoke else 3.0
    settings = Settings(allowed_networks="127.0.0.0/8", fetch_timeout=deadline)
    with Origin(poll_interval=0.05) as origin, Fetcher(settings) as fetcher:
        links = [origin.url(f"/story/{i}") for i in range(3)]
        normal = rss("".join(item(f"Story {i}", u) for i, u in enumerate(links)))
        origin.add("/normal.xml", normal, content_type="application/rss+xml")
        for link in links:
            origin.add(urlsplit(link).path, article_html())
        with Fetcher(Settings()) as default_fetcher:
            lab = Lab(origin, settings, fetcher, default_fetcher, smoke)
            for spec in (c for c in CASES if c.name in names):
                print(json.dumps(asdict(run_case(lab, spec))), flush=True)


# --- the parent: one child per case, the table ----------------------------------------------
def run_child(names: list[str], smoke: bool) -> list[Row]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    args = [sys.executable, "-m", "bench.hostile", "--child", *names, *(["--smoke"] * smoke)]
    try:
        proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
        lines, why = proc.stdout.splitlines(), f"child exit {proc.returncode}: {proc.stderr}"
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        lines, why = out.splitlines(), f"child killed after {exc.timeout:g} s"
    found = {row.name: row for row in (Row(**json.loads(line)) for line in lines)}
    died = f"CRASH {' '.join(why.split())[-150:]}"
    return [found.get(name) or Row(name, died, False, 0.0, 0, 0, False) for name in names]


def cells(spec: Case, row: Row) -> list[str]:
    figures = [f"{1000 * row.seconds:.1f}", f"{mib(row.added):.1f}", f"{mib(row.peak):.0f}"]
    verdict = "yes" if row.passed else f"NO (want {spec.expected.replace('|', ' or ')})"
    return [spec.number, spec.what, row.outcome, *figures, "yes" if row.next_ok else "NO", verdict]


def report(cases: list[Case], rows: list[Row], smoke: bool) -> str:
    pairs = list(zip(cases, rows, strict=True))
    passed, after = sum(r.passed for r in rows), sum(r.next_ok for r in rows)
    refusals = [(r.seconds, s.number) for s, r in pairs if not r.outcome.startswith("ok")]
    slow, most = max(refusals, default=(0.0, "-")), max((r.added for r in rows), default=0)
    headline = (
        f"HEADLINE hostile inputs handled as expected: {passed}/{len(rows)}; normal item "
        f"ok after each: {after}/{len(rows)}; slowest refusal {slow[0]:.2f} s (case "
        f"{slow[1]}); most memory taken by one call {mib(most):.0f} MiB"
    )
    mode = "smoke: small inputs, one process" if smoke else "one fresh process per case"
    header = "#|hostile input|outcome|time (ms)|+MiB|peak MiB|next normal item ok|as expected"
    title = f"Hostile input: outcome, time and memory per case ({mode})"
    return table(title, header.split("|"), [cells(s, r) for s, r in pairs], headline)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="small inputs, one child process")
    parser.add_argument("--only", nargs="*", default=None, help="case names or numbers")
    parser.add_argument("--child", nargs="+", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--pipeline", action="store_true", help="through poller and worker")
    args = parser.parse_args()
    if args.pipeline:
        from bench import hostile_pipeline

        return hostile_pipeline.main()
    if args.child:
        child(args.child, args.smoke)
        return 0
    cases = [c for c in CASES if not args.only or {c.name, c.number} & set(args.only)]
    groups = [[c.name for c in cases]] if args.smoke else [[c.name] for c in cases]
    rows = [row for group in groups for row in run_child(group, args.smoke)]
    print(report(cases, rows, args.smoke), flush=True)
    return 0 if rows and all(row.passed and row.next_ok for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
