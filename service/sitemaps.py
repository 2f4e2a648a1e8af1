"""Sitemap documents to entries: PURE (bytes, the time and the limits in; no I/O).

A ``<urlset>`` gives one :class:`FeedEntry` per ``<url>``: ``loc`` is the entry's id and
link; ``lastmod`` and the Google News extension (``news:title``,
``news:publication_date`` with its offset honoured, ``news:language``, ``news:keywords``,
``news:publication/news:name``) are hints, as a feed entry's are. A ``<sitemapindex>``
gives the URLs of its child sitemaps. Elements are matched by local name, so sitemaps
that forget their namespace still read.

Only what is new is taken, because a first poll of a large ordinary sitemap must not
enqueue years of old URLs: an entry is kept when its date (publication date, else
``lastmod``) is within ``window`` seconds of ``now``; undated entries are skipped (nothing
tells a new one from an old one); the newest ``max_entries`` are kept. Child sitemaps are
kept when their ``lastmod`` is within the window or absent, newest first, at most
``max_children``.

Guards, the feeds' own (``service.feeds.prescreen`` and ``decode``): the size cap first, any
ENTITY declaration or DOCTYPE internal subset refused before libxml2 sees the document,
libxml2 with no network, no DTD, no entity substitution and no huge-tree mode; at most
``MAX_URLS`` ``<url>``/``<sitemap>`` elements are read (the protocol's own limit).
Raises ``PermanentError`` only (``too_large``, ``hostile_content``, ``not_a_feed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from service.dates import parse_date
from service.errors import PermanentError, Reason
from service.feeds import prescreen
from service.feeds.decode import to_utf8
from service.feeds.text import clean_text
from service.feeds.xmlparse import parse_xml
from service.models import FeedEntry
from service.urls import resolve_url

MAX_URLS = 50_000  # sitemaps.org: at most 50,000 URLs (or sitemaps) per file
_TITLE_CHARS, _KEYWORD_CHARS, _KEYWORDS = 1024, 100, 30


@dataclass(frozen=True)
class Limits:
    """What one poll takes from a sitemap."""

    now: datetime
    window: float  # seconds
    max_entries: int
    max_children: int
    max_bytes: int


@dataclass(frozen=True)
class Sitemap:
    """A parsed sitemap: entries (a urlset) or child sitemap URLs (an index)."""

    kind: str  # "urlset" | "sitemapindex"
    entries: tuple[FeedEntry, ...] = ()
    children: tuple[str, ...] = ()
    read: int = 0  # <url> or <sitemap> elements read
    skipped: int = 0  # of them: outside the window, undated, or over the cap
    news: bool = False  # a Google News sitemap (one news:news at least)


def parse_sitemap(
    content: bytes,
    *,
    url: str,
    content_type: str | None,
    limits: Limits,
    encoding: str | None = None,
) -> Sitemap:
    """The sitemap in ``content`` fetched from ``url``, cut to ``limits``; ``encoding`` (the
    fetcher's) stands in for the HTTP charset (:func:`service.feeds.decode.to_utf8`)."""
    root = _parse(content, content_type, limits.max_bytes, encoding)
    kind = _local(root.tag)
    if kind == "sitemapindex":
        return _read_index(root, url=url, limits=limits)
    if kind == "urlset":
        return _read_urlset(root, url=url, limits=limits)
    raise PermanentError(f"XML root <{kind}> is no sitemap", reason=Reason.NOT_A_FEED)


def _parse(
    content: bytes, content_type: str | None, max_bytes: int, encoding: str | None
) -> etree._Element:
    prescreen.check_size(content, max_bytes)
    data = to_utf8(content, content_type, encoding=encoding)
    prescreen.refuse_declarations(data)
    root, _errors = parse_xml(data, drop_comments=True)
    return root


def _read_urlset(root: etree._Element, *, url: str, limits: Limits) -> Sitemap:
    oldest = limits.now - timedelta(seconds=limits.window)
    dated: list[FeedEntry] = []
    read = 0
    news = False
    for element in _children(root, "url"):
        read += 1
        entry, is_news = _entry(element, sitemap_url=url, oldest=oldest)
        news = news or is_news
        if entry is not None:
            dated.append(entry)
    dated.sort(key=lambda e: e.published_at or e.updated_at or limits.now, reverse=True)
    kept = tuple(dated[: limits.max_entries])
    return Sitemap("urlset", entries=kept, read=read, skipped=read - len(kept), news=news)


def _read_index(root: etree._Element, *, url: str, limits: Limits) -> Sitemap:
    oldest = limits.now - timedelta(seconds=limits.window)
    candidates: list[tuple[datetime | None, str]] = []
    read = 0
    for element in _children(root, "sitemap"):
        read += 1
        loc = resolve_url(url, _text(element, "loc"))
        lastmod = parse_date(_text(element, "lastmod"))
        if loc and (lastmod is None or oldest <= lastmod) and loc != url:
            candidates.append((lastmod, loc))
    candidates.sort(key=lambda c: c[0] or oldest, reverse=True)  # undated ones last
    children = tuple(dict.fromkeys(loc for _, loc in candidates))[: limits.max_children]
    return Sitemap("sitemapindex", children=children, read=read, skipped=read - len(children))


def _entry(
    element: etree._Element, *, sitemap_url: str, oldest: datetime
) -> tuple[FeedEntry | None, bool]:
    """The entry of one ``<url>``, or ``None`` when it has no link or no date since
    ``oldest`` (checked first: most URLs of a large sitemap are old)."""
    news = _child(element, "news")
    lastmod = parse_date(_text(element, "lastmod"))
    published = parse_date(_text(news, "publication_date")) if news is not None else None
    when = published or lastmod
    loc = resolve_url(sitemap_url, _text(element, "loc")) if when and oldest <= when else None
    if loc is None:
        return None, news is not None
    title = language = name = None
    keywords: tuple[str, ...] = ()
    if news is not None:
        title = clean_text(_text(news, "title"), limit=_TITLE_CHARS)
        publication = _child(news, "publication")
        if publication is not None:
            language = _language(_text(publication, "language"))
            name = clean_text(_text(publication, "name"), limit=_TITLE_CHARS)
        keywords = _keywords(_text(news, "keywords"))
    entry = FeedEntry(
        feed_url=sitemap_url,
        feed_title=name,
        entry_id=loc,
        url=loc,
        title=title,
        published_at=when,
        updated_at=lastmod if published and lastmod and lastmod > published else None,
        tags=keywords,
        language=language,
    )
    return entry, news is not None


def _children(root: etree._Element, name: str) -> list[etree._Element]:
    found: list[etree._Element] = []
    for element in root.iterchildren(tag=etree.Element):
        if _local(element.tag) == name:
            found.append(element)
            if len(found) >= MAX_URLS:
                break
    return found


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for child in element.iterchildren(tag=etree.Element):
        if _local(child.tag) == name:
            return child
    return None


def _text(element: etree._Element, name: str) -> str | None:
    child = _child(element, name)
    if child is None:
        return None
    text = "".join(child.itertext())[:4096].strip()
    return text or None


def _language(value: str | None) -> str | None:
    """ISO 639 code of ``news:language`` (``zh-cn`` and ``zh-tw`` are allowed there)."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if 2 <= len(code) <= 3 and code.isascii() and code.isalpha() else None


def _keywords(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    words = (clean_text(word, limit=_KEYWORD_CHARS) for word in value.split(","))
    return tuple(dict.fromkeys(word for word in words if word))[:_KEYWORDS]


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""
