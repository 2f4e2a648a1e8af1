"""What ``feeds add`` and ``feeds discover`` find at a URL: the one safe fetcher, then the
pure readers of ``service.discovery``."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from service.discovery import DocumentKind, advertised_feeds, document_kind, robots_sitemaps
from service.errors import IngestError
from service.fetching import Fetcher


@dataclass
class Found:
    """What a URL turned out to be, and what it advertises."""

    url: str
    kind: DocumentKind
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def inspect_url(fetcher: Fetcher, url: str, *, with_robots: bool) -> Found:
    """Fetch ``url``: a feed or a sitemap is itself; a page gives its advertised feeds (and,
    ``with_robots``, the sitemaps of its site's robots.txt). Raises ``IngestError``."""
    page = fetcher.fetch(url, kind="feed")
    kind = document_kind(page.content)
    if kind != "html":
        return Found(url, kind)
    found = Found(
        url,
        kind,
        feeds=advertised_feeds(
            page.content, url=page.url, max_bytes=fetcher.settings.max_feed_bytes
        ),
    )
    if with_robots:
        found.sitemaps = site_sitemaps(fetcher, page.url)
    return found


def site_sitemaps(fetcher: Fetcher, url: str) -> list[str]:
    """The sitemaps the site's robots.txt names (none when it cannot be fetched)."""
    parts = urlsplit(url)
    robots = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
    try:
        page = fetcher.fetch(robots, kind="feed")
    except IngestError:
        return []
    return robots_sitemaps(page.content.decode("utf-8", "replace"), url=page.url)  # RFC 9309
