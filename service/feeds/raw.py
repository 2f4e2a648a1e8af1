"""What a format adapter (feedparser, JSON Feed) hands to normalisation: fields as found.

Adapters only pick fields out of their format; cleaning, resolving, dating and deduplicating
happen once, in :mod:`service.feeds.normalise`, for every format alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RawDate:
    """A date as the feed wrote it, and the UTC ``struct_time`` a library derived, if any."""

    text: str | None = None
    parsed: time.struct_time | None = None


@dataclass(frozen=True, slots=True)
class RawText:
    """A text field and whether it holds HTML markup (else plain text)."""

    value: str | None = None
    is_html: bool = False


@dataclass(frozen=True, slots=True)
class RawEntry:
    guid: str | None = None
    links: tuple[str, ...] = ()  # candidates, best first; relative ones resolve against base
    base: str | None = None  # xml:base in effect, else None (the feed URL is used)
    title: RawText = RawText()
    summary: RawText = RawText()
    content: RawText = RawText()  # the full content: HTML, or plain text
    authors: tuple[str, ...] = ()
    published: RawDate = RawDate()
    updated: RawDate = RawDate()
    tags: tuple[str, ...] = ()
    images: tuple[str, ...] = ()  # candidates, best first


@dataclass(frozen=True, slots=True)
class RawChannel:
    """The feed's own metadata (what an item-skipping parse keeps from the last one)."""

    format: str
    title: RawText = RawText()
    site_url: str | None = None
    authors: tuple[str, ...] = ()  # inherited by entries without their own (Atom, JSON Feed)
    ttl_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class KnownItem:
    """What an item gave when it was parsed: the short hash of its entry id (``None``: no
    entry) and its publication date as a Unix time (for the learned poll interval)."""

    entry: str | None = None
    published: float | None = None


@dataclass(frozen=True, slots=True)
class ItemRef:
    """One item of the document, in document order: the hash of its bytes (in context) and,
    when a parse of the same feed met these very bytes before, what they gave then (the
    item was then not handed to the parser)."""

    hash: str
    known: KnownItem | None = None


@dataclass(frozen=True, slots=True)
class RawFeed:
    channel: RawChannel
    # Entries of the items parsed, in document order: those of ``items`` whose ``known`` is
    # None, one for one; every item when ``items`` is empty (no item hashes available).
    entries: Iterator[RawEntry] = field(default_factory=lambda: iter(()))
    items: tuple[ItemRef, ...] = ()
    channel_hash: str = ""  # hash of the channel metadata (in context); "" when not known
