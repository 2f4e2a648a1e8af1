"""What one parse of a feed remembers for the next: a hash of every item's bytes (PURE).

A changed feed document usually differs from the last one by an item or two and a new
``lastBuildDate``; re-reading the 49 items already seen was most of a poll's CPU. So each
item of the document is hashed (its bytes as written, found without building the tree
(:mod:`service.feeds.itemspans`) when the document is well-formed, else as libxml2
serialises it after repair, or its JSON; together with a *context*: the feed URL, the link
policy, and what of the enclosing elements can change how an item reads: their names,
attributes, namespaces, ``xml:base``), and an item
whose hash the last parse of the same feed met is not handed to feedparser or normalised
again: it gave the same entry then, and that entry is in the feed's seen-set with its
fingerprint. feedparser stays the parser of record: the items it does get produce exactly
the entries a parse of the whole document would (``tests/unit/test_feeds_incremental.py``
checks it over the corpus and over mutated documents), and a parse that cannot vouch for
that (feed title, authors or format changed, or feedparser's entries do not match the items
one for one) parses the whole document again.

An edited story (same id, other bytes) has a new hash: it is parsed, its entry keeps its id
and gets a new fingerprint, and the poller reports it ``changed`` as before. An item whose
bytes come back (an edit undone) is parsed again too: only the items of the last document
are remembered, so the memory is bounded by ``max_items`` (about 60 bytes an item).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from service.feeds.raw import KnownItem, RawChannel, RawText
from service.models import FeedEntry, ParsedFeed

VERSION = 1  # of the stored form: a memory of another version is ignored (all items parsed)
_ITEM_DIGEST = 12  # bytes: 96 bits, no two items of one feed collide in practice
_ID_DIGEST = 8


def item_hash(context: bytes, item: bytes) -> str:
    """The hash of one item's bytes (or the channel's metadata) within ``context``."""
    digest = hashlib.blake2b(context, digest_size=_ITEM_DIGEST)
    digest.update(b"\x00")
    digest.update(item)
    return digest.hexdigest()


def id_hash(entry_id: str) -> str:
    """The short hash an item's entry id is remembered by (dedup of ids in one document)."""
    return hashlib.blake2b(
        entry_id.encode("utf-8", "surrogatepass"), digest_size=_ID_DIGEST
    ).hexdigest()


@dataclass(frozen=True, slots=True)
class FeedMemory:
    """The hashes of the last parsed document's items and channel, and what they gave."""

    channel: str = ""
    meta: RawChannel | None = None
    items: Mapping[str, KnownItem] = field(default_factory=dict)

    def dumps(self) -> bytes:
        meta = self.meta
        return orjson.dumps(
            {
                "v": VERSION,
                "channel": self.channel,
                "meta": None
                if meta is None
                else [
                    meta.format,
                    meta.title.value,
                    meta.title.is_html,
                    meta.site_url,
                    list(meta.authors),
                    meta.ttl_seconds,
                ],
                "items": {h: [k.entry, k.published] for h, k in self.items.items()},
            }
        )

    @classmethod
    def loads(cls, data: bytes | str | None) -> FeedMemory:
        """The memory stored as ``data``; an empty one for nothing, another version or
        anything unreadable (then every item is parsed, as on a first poll)."""
        if not data:
            return EMPTY
        try:
            stored = orjson.loads(data)
            if stored.get("v") != VERSION:
                return EMPTY
            items = {
                str(h): KnownItem(_opt_str(entry), _opt_float(published))
                for h, (entry, published) in stored["items"].items()
            }
            return cls(str(stored["channel"]), _meta(stored["meta"]), items)
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            return EMPTY


EMPTY = FeedMemory()


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """A parse that skipped the items already met.

    ``feed.entries`` are the entries of the items parsed this time (all of them when the
    memory was empty); ``unchanged`` what the skipped ones gave last time (distinct entry
    ids only); ``memory`` is what to pass to the next parse of the same feed.
    """

    feed: ParsedFeed
    unchanged: tuple[KnownItem, ...] = ()
    memory: FeedMemory = EMPTY

    @property
    def entries_total(self) -> int:
        """Entries the whole document holds (parsed and skipped)."""
        return len(self.feed.entries) + len(self.unchanged)

    def published(self) -> list[datetime]:
        """Publication dates of every entry of the document, parsed or skipped."""
        dates = [e.published_at for e in self.feed.entries if e.published_at]
        return dates + [_datetime(k.published) for k in self.unchanged if k.published is not None]


def known_item(entry: FeedEntry | None) -> KnownItem:
    if entry is None:
        return KnownItem()
    published = entry.published_at.timestamp() if entry.published_at else None
    return KnownItem(id_hash(entry.entry_id), published)


def _meta(value: object) -> RawChannel | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 6:
        raise ValueError("bad channel metadata")
    fmt, title, is_html, site_url, authors, ttl = value
    return RawChannel(
        format=str(fmt),
        title=RawText(_opt_str(title), bool(is_html)),
        site_url=_opt_str(site_url),
        authors=tuple(str(a) for a in authors),
        ttl_seconds=_opt_float(ttl),
    )


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _opt_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
