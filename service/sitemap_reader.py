"""A polled sitemap as a :class:`ParsedFeed`: the index's children fetched, all parsed.

The poller hands over the document it fetched; for a ``<sitemapindex>`` the chosen child
sitemaps (see ``service.sitemaps``: within the window, newest first, at most
``sitemap_max_children``) are fetched through the poller's own fetch (same fetcher, address
guard, size and decompression caps, per-host bound) and parsed off the event loop. A child
that fails is reported through ``on_error`` and the others are read; an index inside an
index is not followed. The entries of all children are merged, newest first, and cut to
``sitemap_max_entries``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from service.errors import IngestError, PermanentError, Reason
from service.models import FeedEntry, FetchedPage, ParsedFeed
from service.settings import Settings
from service.sitemaps import Limits, Sitemap, parse_sitemap

FetchFn = Callable[[str], Awaitable[FetchedPage]]
ErrorFn = Callable[[str, IngestError], None]


def sitemap_limits(settings: Settings, now: float) -> Limits:
    return Limits(
        now=datetime.fromtimestamp(now, UTC),
        window=settings.sitemap_window_days * 86_400,
        max_entries=settings.sitemap_max_entries,
        max_children=settings.sitemap_max_children,
        max_bytes=settings.max_feed_bytes,
    )


async def read_sitemap(
    page: FetchedPage, *, source_url: str, limits: Limits, fetch: FetchFn, on_error: ErrorFn
) -> ParsedFeed:
    """The entries of the sitemap ``page`` (registered as ``source_url``)."""
    top = await _parse(page, limits)
    parts = [top]
    if top.kind == "sitemapindex":
        children = await asyncio.gather(
            *(_child(url, limits, fetch, on_error) for url in top.children)
        )
        parts = [child for child in children if child is not None]
    entries = sorted(
        (entry for part in parts for entry in part.entries),
        key=_newest_first,
        reverse=True,
    )[: limits.max_entries]
    news = any(part.news for part in parts)
    return ParsedFeed(
        url=source_url,
        title=next((e.feed_title for e in entries if e.feed_title), None),
        format="news-sitemap" if news else "sitemap",
        entries=tuple(e.model_copy(update={"feed_url": source_url}) for e in entries),
    )


async def _parse(page: FetchedPage, limits: Limits) -> Sitemap:
    return await asyncio.to_thread(
        parse_sitemap,
        page.content,
        url=page.url,
        content_type=page.content_type,
        limits=limits,
        encoding=page.encoding,
    )


async def _child(url: str, limits: Limits, fetch: FetchFn, on_error: ErrorFn) -> Sitemap | None:
    try:
        sitemap = await _parse(await fetch(url), limits)
    except IngestError as exc:
        on_error(url, exc)
        return None
    if sitemap.kind != "urlset":
        on_error(
            url,
            PermanentError(f"{url}: a sitemap index inside an index", reason=Reason.NOT_A_FEED),
        )
        return None
    return sitemap


def _newest_first(entry: FeedEntry) -> datetime:
    return entry.published_at or entry.updated_at or datetime.min.replace(tzinfo=UTC)
