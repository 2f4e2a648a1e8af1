"""Adapter output (:mod:`service.feeds.raw`) to :class:`ParsedFeed`, alike for every format.

- links resolved against ``xml:base``/the feed URL, URLs in content against ``xml:base``/the
  entry link; only http(s) kept;
- ``entry_id``: GUID, else link, else a hash of title and summary (entries with none of
  these are dropped); ids over ``MAX_ID_LENGTH`` are hashed;
- title, summary, authors and tags as clean plain text (HTML stripped, entities decoded,
  control characters removed), deduplicated; summary falls back to the content's text;
- dates in UTC (``published_at`` falls back to the updated date);
- ``content_html`` sanitised; image: the first http(s) media/enclosure image;
- at most ``max_items`` items (the adapters keep the newest: :mod:`service.feeds.newest`),
  then later duplicates (same id) dropped — also of items skipped as already met
  (:mod:`service.feeds.memory`), by the id they gave then.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from service.addresses import AddressGuard
from service.dates import parse_date
from service.feeds.memory import EMPTY, FeedMemory, FeedUpdate, known_item
from service.feeds.raw import ItemRef, KnownItem, RawEntry, RawFeed, RawText
from service.feeds.sanitize import sanitize_html
from service.feeds.text import clean_text, html_to_text, plain_to_text, text_to_html
from service.hashing import short_hash
from service.models import FeedEntry, ParsedFeed
from service.urls import resolve_url

MAX_TITLE_LENGTH = 500
MAX_SUMMARY_LENGTH = 2000
MAX_ID_LENGTH = 512
MAX_NAME_LENGTH = 200
MAX_AUTHORS = 20
MAX_TAGS = 50
_BY = re.compile(r"^by\s+", re.IGNORECASE)


def build_feed(
    raw: RawFeed, *, url: str, max_items: int, links: AddressGuard | None = None
) -> FeedUpdate:
    """The entries of the items parsed, what the skipped ones gave, and the new memory."""
    permits = links.permits_link if links is not None else _any_link
    channel = raw.channel
    title = text_of(channel.title, MAX_TITLE_LENGTH)
    fresh = iter(raw.entries)
    entries: list[FeedEntry] = []
    unchanged: list[KnownItem] = []
    remembered: dict[str, KnownItem] = {}
    seen: set[str] = set()
    for ref in islice(raw.items or _unhashed(), max(0, max_items)):
        item = ref.known
        if item is None:
            raw_entry = next(fresh, None)
            if raw_entry is None:
                break
            entry = normalise_entry(
                raw_entry,
                feed_url=url,
                feed_title=title,
                feed_authors=channel.authors,
                permits=permits,
            )
            item = known_item(entry)
            if entry is not None and item.entry not in seen:
                entries.append(entry)
        elif item.entry is not None and item.entry not in seen:
            unchanged.append(item)
        if item.entry is not None:
            seen.add(item.entry)
        if ref.hash:
            remembered[ref.hash] = item
    feed = ParsedFeed(
        url=url,
        title=title,
        site_url=resolve_url(url, channel.site_url),
        format=channel.format,
        entries=tuple(entries),
        ttl_seconds=channel.ttl_seconds,
    )
    memory = FeedMemory(raw.channel_hash, channel, remembered) if raw.items else EMPTY
    return FeedUpdate(feed, tuple(unchanged), memory)


def _unhashed() -> Iterator[ItemRef]:
    """Items without hashes: every one is parsed."""
    while True:
        yield ItemRef("")


def normalise_entry(
    raw: RawEntry,
    *,
    feed_url: str,
    feed_title: str | None,
    feed_authors: tuple[str, ...] = (),
    permits: Callable[[str], bool] | None = None,
) -> FeedEntry | None:
    """One entry, normalised; ``None`` when it has no id, link, title or summary at all."""
    xml_base = resolve_url(feed_url, raw.base)
    base = xml_base or feed_url
    link = _first_url(base, raw.links)
    title = text_of(raw.title, MAX_TITLE_LENGTH)
    summary = text_of(raw.summary, MAX_SUMMARY_LENGTH) or text_of(raw.content, MAX_SUMMARY_LENGTH)
    entry_id = _entry_id(raw.guid, link, title, summary)
    if entry_id is None:
        return None
    updated = parse_date(raw.updated.text, raw.updated.parsed)
    return FeedEntry(
        feed_url=feed_url,
        feed_title=feed_title,
        entry_id=entry_id,
        url=link,
        title=title,
        authors=_authors(raw.authors or feed_authors),
        published_at=parse_date(raw.published.text, raw.published.parsed) or updated,
        updated_at=updated,
        summary=summary,
        tags=_unique(raw.tags, MAX_TAGS),
        # Relative URLs in content: against xml:base, else the entry's own page.
        content_html=_content_html(
            raw.content, base=xml_base or link or feed_url, permits=permits or _any_link
        ),
        image=_first_url(base, raw.images, permits or _any_link),
    )


def text_of(value: RawText, limit: int) -> str | None:
    if value.is_html:
        return html_to_text(value.value, limit=limit)
    return plain_to_text(value.value, limit=limit)


def _first_url(
    base: str, candidates: Iterable[str], permits: Callable[[str], bool] | None = None
) -> str | None:
    for candidate in candidates:
        url = resolve_url(base, candidate)
        if url and (permits is None or permits(url)):
            return url
    return None


def _any_link(url: str) -> bool:
    return True


def _entry_id(
    guid: str | None, link: str | None, title: str | None, summary: str | None
) -> str | None:
    entry_id = clean_text(guid) or link
    if entry_id:
        return entry_id if len(entry_id) <= MAX_ID_LENGTH else f"sha:{short_hash(entry_id)}"
    if title or summary:
        return "hash:" + short_hash("\x1f".join((title or "", summary or "")))
    return None


def _content_html(content: RawText, *, base: str, permits: Callable[[str], bool]) -> str | None:
    if not content.value:
        return None
    markup = content.value if content.is_html else text_to_html(content.value)
    return sanitize_html(markup, base=base, permits=permits)


def _authors(names: Iterable[str]) -> tuple[str, ...]:
    return _unique((_BY.sub("", name.strip()) for name in names), MAX_AUTHORS)


def _unique(values: Iterable[str], limit: int) -> tuple[str, ...]:
    """Clean plain-text values, deduplicated case-insensitively, first spelling kept."""
    kept: dict[str, str] = {}
    for value in values:
        text = plain_to_text(value, limit=MAX_NAME_LENGTH)
        if text and text.casefold() not in kept:
            kept[text.casefold()] = text
            if len(kept) >= limit:
                break
    return tuple(kept.values())
