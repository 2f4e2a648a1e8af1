"""What a publisher advertises: PURE (bytes in, URLs out; no I/O, no clock, no settings).

- ``document_kind``: a fetched document is an HTML page, a sitemap or (anything else) a feed,
  judged by its content, not its URL or content type (publishers get those wrong).
- ``advertised_feeds``: the feeds an HTML page names with ``<link rel="alternate">`` and an
  RSS, Atom, RDF or JSON Feed type, resolved against the page (and its ``<base href>``),
  as Miniflux and FreshRSS find them.
- ``robots_sitemaps``: the ``Sitemap:`` lines of a robots.txt.

Bounded: the HTML is parsed by libxml2 (no network, no DTD, no entities) from at most
``max_bytes``; at most ``MAX_LINKS`` links are returned.
"""

from __future__ import annotations

from typing import Literal

from lxml import etree, html

from service.errors import PermanentError, Reason
from service.feeds import prescreen
from service.fetching.responses import looks_like_html
from service.urls import resolve_url

DocumentKind = Literal["html", "sitemap", "feed"]
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",  # JSON Feed 1.0 advertised itself so
        "application/x.atom+xml",
        "application/x-atom+xml",
        "application/x-rss+xml",
    }
)
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel"})
MAX_LINKS = 50
MAX_ROBOTS_LINES = 10_000


def document_kind(content: bytes) -> DocumentKind:
    """``sitemap`` for a ``<urlset>``/``<sitemapindex>`` root, ``html`` for a web page."""
    head = content[:65_536]
    root = prescreen.root_name(head.removeprefix(b"\xef\xbb\xbf"))
    if root in SITEMAP_ROOTS:
        return "sitemap"
    if root not in FEED_ROOTS and looks_like_html(head):
        return "html"
    return "feed"


def advertised_feeds(content: bytes, *, url: str, max_bytes: int) -> list[str]:
    """The absolute feed URLs ``<link rel="alternate" type="…">`` names, in page order."""
    if len(content) > max_bytes:
        raise PermanentError(
            f"page is {len(content)} bytes, over the {max_bytes} limit", reason=Reason.TOO_LARGE
        )
    root = _parse_html(content)
    if root is None:
        return []
    base = _base_url(root, url)
    found: list[str] = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";", 1)[0].strip().lower()
        if "alternate" not in rel or kind not in FEED_TYPES:
            continue
        feed = resolve_url(base, link.get("href"))
        if feed and feed not in found:
            found.append(feed)
        if len(found) >= MAX_LINKS:
            break
    return found


def robots_sitemaps(text: str, *, url: str) -> list[str]:
    """The absolute URLs of the ``Sitemap:`` lines of a robots.txt, in order."""
    found: list[str] = []
    for line in text.splitlines()[:MAX_ROBOTS_LINES]:
        name, _, value = line.partition(":")
        if name.strip().lower() != "sitemap":
            continue
        sitemap = resolve_url(url, value.split("#", 1)[0].strip())
        if sitemap and sitemap not in found:
            found.append(sitemap)
        if len(found) >= MAX_LINKS:
            break
    return found


def _parse_html(content: bytes) -> etree._Element | None:
    parser = html.HTMLParser(no_network=True, remove_comments=True, default_doctype=False)
    try:
        return html.document_fromstring(content, parser=parser)
    except (etree.ParserError, ValueError):
        return None


def _base_url(root: etree._Element, url: str) -> str:
    for base in root.iter("base"):
        resolved = resolve_url(url, base.get("href"))
        if resolved:
            return resolved
        break
    return url
