"""RSS 0.9x/1.0/2.0 and Atom through feedparser, on bytes only (feedparser never fetches).

feedparser gets a file-like object, never a string: given ``bytes`` that happen to name a
file it would open and read that file, and given a URL string it would fetch it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import feedparser
import feedparser.api

from service.errors import PermanentError, Reason
from service.feeds import decode, itemspans, prescreen, xmltree
from service.feeds.memory import EMPTY, FeedMemory, item_hash
from service.feeds.raw import ItemRef, KnownItem, RawChannel, RawDate, RawEntry, RawFeed, RawText

# feedparser asks xml.sax for libxml2's SAX driver first (``drv_libxml2``, not installed
# here): a failed import, a search of the whole module path, on every parse. Its fallback,
# the standard library's expat reader, is what parses either way.
feedparser.api.PREFERRED_XML_PARSERS = []

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
_SY_PERIODS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 604800,
    "monthly": 2592000,
    "yearly": 31536000,
}
MAX_HINT_SECONDS = 366 * 86400
# Items hashed as written (itemspans) never share a hash with items hashed as libxml2 writes
# them: a feed that switches between the two ways is parsed whole once.
_BYTES_CONTEXT = b"\x1dbytes\x1d"


def read_xml(
    content: bytes,
    *,
    url: str,
    content_type: str | None,
    max_items: int,
    memory: FeedMemory = EMPTY,
    context: bytes = b"",
    encoding: str | None = None,
) -> RawFeed:
    """The feed in an RSS/Atom document (its newest ``max_items`` items); ``NOT_A_FEED`` for
    HTML or other XML.

    Items whose hash ``memory`` holds are not handed to feedparser (see
    :mod:`service.feeds.memory`); ``context`` (the feed URL, the link policy) goes into
    every hash.
    """
    served_as = content_type or "no content type"
    data = decode.to_utf8(content, content_type, encoding=encoding)
    prescreen.refuse_declarations(data)
    if prescreen.root_name(data) == "html":
        raise PermanentError(f"an HTML page, not a feed ({served_as})", reason=Reason.NOT_A_FEED)
    split = _split_bytes(data, memory, context, max_items) or _split_tree(
        data, memory, context, max_items
    )
    tree, hashes, known = split
    skipped = sum(k is not None for k in known)
    channel_hash = item_hash(
        context + b"\x1e" + xmltree.context_bytes(tree), xmltree.channel_bytes(tree)
    )
    if memory.meta is not None and channel_hash == memory.channel and not tree.items:
        # Nothing new: not even the channel (the document differs elsewhere, e.g. whitespace).
        refs = tuple(ItemRef(h, k) for h, k in zip(hashes, known, strict=True))
        return RawFeed(memory.meta, items=refs, channel_hash=channel_hash)
    xmltree.cap_metadata(tree, tree.items)
    prepared = xmltree.serialise(tree)
    prescreen.refuse_declarations(prepared)  # defence in depth: exactly what feedparser will see
    result = _feedparser(prepared, url)
    version = _str(result, "version")
    entries: list[Mapping[str, Any]] = list(_get(result, "entries") or ())
    if not version and not entries and not skipped:
        raise PermanentError(
            f"no RSS or Atom feed in the document ({served_as})", reason=Reason.NOT_A_FEED
        )
    channel = _channel(_get(result, "feed") or {}, version or "unknown")
    matched = len(entries) == len(known) - skipped
    if skipped and (not matched or not _same_reading(channel, memory.meta)):
        # Cannot vouch that the skipped items read as before: the whole document again.
        return read_xml(
            content,
            url=url,
            content_type=content_type,
            max_items=max_items,
            context=context,
            encoding=encoding,
        )
    refs = tuple(ItemRef(h, k) for h, k in zip(hashes, known, strict=True)) if matched else ()
    return RawFeed(channel, entries=_entries(entries, url), items=refs, channel_hash=channel_hash)


_Split = tuple[xmltree.Tree, list[str], list[KnownItem | None]]


def _split_bytes(data: bytes, memory: FeedMemory, context: bytes, max_items: int) -> _Split | None:
    """The items found in the bytes (:mod:`service.feeds.itemspans`), hashed as written,
    and the tree of the document without the ones ``memory`` holds; None when the bytes
    cannot be split (the tree path then)."""
    found = itemspans.find_items(
        data,
        item_tags=xmltree.ITEM_TAGS,
        channel_tags=xmltree.CHANNEL_TAGS,
        max_elements=xmltree.MAX_ELEMENTS,
    )
    if found is None:
        return None
    within = _BYTES_CONTEXT + context + b"\x1e" + found.head
    hashes = [item_hash(within, data[start:end]) for start, end in found.spans]
    known = [memory.items.get(h) for h in hashes]
    met = [i for i, k in enumerate(known) if k is not None]
    if len(hashes) > max_items:
        # The newest are kept by date: the whole tree trims, the spans name what it kept.
        tree = xmltree.repair(data, max_items=max_items)
        if tree.total != len(hashes):
            return None  # libxml2 saw other items than expat (never seen): the tree decides
        hashes = [hashes[p] for p in tree.positions]
        known = [known[p] for p in tree.positions]
        return _without_known(tree, hashes, known)
    tree = xmltree.repair(found.without(data, met) if met else data, max_items=max_items)
    if tree.total != len(hashes) - len(met):
        return None  # as above
    return tree, hashes, known


def _split_tree(data: bytes, memory: FeedMemory, context: bytes, max_items: int) -> _Split:
    """The items of the repaired tree, hashed as libxml2 writes them; those ``memory``
    holds are taken out of the tree."""
    tree = xmltree.repair(data, max_items=max_items)
    within = context + b"\x1e" + xmltree.context_bytes(tree)
    hashes = [item_hash(within, xmltree.item_bytes(item)) for item in tree.items]
    return _without_known(tree, hashes, [memory.items.get(h) for h in hashes])


def _without_known(tree: xmltree.Tree, hashes: list[str], known: list[KnownItem | None]) -> _Split:
    """``tree`` without its items that ``known`` names (they are not parsed again)."""
    xmltree.drop([item for item, k in zip(tree.items, known, strict=True) if k is not None])
    fresh = [item for item, k in zip(tree.items, known, strict=True) if k is None]
    return replace(tree, items=fresh), hashes, known


def _channel(feed: Mapping[str, Any], fmt: str) -> RawChannel:
    return RawChannel(
        format=fmt,
        title=_text(feed, "title"),
        site_url=_str(feed, "link"),
        authors=_authors(feed) if fmt.startswith("atom") else (),
        ttl_seconds=polling_hint(
            _str(feed, "ttl"), _str(feed, "sy_updateperiod"), _str(feed, "sy_updatefrequency")
        ),
    )


def _same_reading(channel: RawChannel, before: RawChannel | None) -> bool:
    """Whether entries read the same under ``channel`` as under ``before``: they inherit
    the feed's title and authors, and feedparser reads by format."""
    return before is not None and (channel.format, channel.title, channel.authors) == (
        before.format,
        before.title,
        before.authors,
    )


def _feedparser(document: bytes, url: str) -> Mapping[str, Any]:
    """feedparser on well-formed bytes, given as a stream; ``url`` is the base for links."""
    result: Mapping[str, Any] = feedparser.parse(
        io.BytesIO(document),
        response_headers={"content-type": "application/xml", "content-location": url},
        # Both done once for every format, faster, by ammonia (service.feeds.sanitize).
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    return result


def polling_hint(ttl: str | None, period: str | None, frequency: str | None) -> float | None:
    """Seconds between polls the feed asks for: ``<ttl>`` minutes, ``sy:updatePeriod`` /
    ``sy:updateFrequency``; the longer when both are given; absurd values ignored."""
    hints = []
    minutes = _number(ttl)
    if minutes is not None:
        hints.append(minutes * 60)
    if period or frequency:
        seconds = _SY_PERIODS.get((period or "daily").strip().lower())
        times = _number(frequency) if frequency else 1.0
        if seconds is not None and times is not None:
            hints.append(seconds / times)
    valid = [h for h in hints if 0 < h <= MAX_HINT_SECONDS]
    return max(valid) if valid else None


def _number(value: str | None) -> float | None:
    try:
        number = float((value or "").strip())
    except ValueError:
        return None
    return number if 0 < number < 1e9 else None


def _entries(entries: list[Mapping[str, Any]], feed_url: str) -> Iterator[RawEntry]:
    for entry in entries:
        yield _entry(entry, feed_url)


def _entry(entry: Mapping[str, Any], feed_url: str) -> RawEntry:
    content = _content(entry)
    summary = _text(entry, "summary")
    if summary.value == content.value:
        summary = content  # feedparser copies content to a missing summary, without its type
    return RawEntry(
        guid=_str(entry, "id"),
        links=tuple(
            link for link in (_str(entry, "feedburner_origlink"), _str(entry, "link")) if link
        ),
        base=_base(entry, feed_url),
        title=_text(entry, "title"),
        summary=summary,
        content=content,
        authors=_authors(entry),
        published=RawDate(_str(entry, "published"), _get(entry, "published_parsed")),
        updated=RawDate(_str(entry, "updated"), _get(entry, "updated_parsed")),
        tags=tuple(_tags(entry)),
        images=tuple(_images(entry)),
    )


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    """A stored value, bypassing ``FeedParserDict``'s aliases (``updated`` would fall back to
    ``published`` with a DeprecationWarning)."""
    return dict.get(mapping, key) if isinstance(mapping, dict) else mapping.get(key)


def _str(mapping: Mapping[str, Any], key: str) -> str | None:
    value = _get(mapping, key)
    return value if isinstance(value, str) and value.strip() else None


def _is_html(detail: object) -> bool:
    return isinstance(detail, Mapping) and _get(detail, "type") in _HTML_TYPES


def _text(mapping: Mapping[str, Any], key: str) -> RawText:
    return RawText(_str(mapping, key), _is_html(_get(mapping, f"{key}_detail")))


def _content(entry: Mapping[str, Any]) -> RawText:
    parts = [c for c in _get(entry, "content") or () if isinstance(c, Mapping) and _str(c, "value")]
    html_parts = [c for c in parts if _is_html(c)]
    if html_parts:
        return RawText(_str(html_parts[0], "value"), True)
    return RawText(_str(parts[0], "value"), False) if parts else RawText()


def _base(entry: Mapping[str, Any], feed_url: str) -> str | None:
    """The ``xml:base`` in effect for the entry (feedparser reports the feed URL otherwise)."""
    for detail in (
        *(_get(entry, "content") or ()),
        _get(entry, "summary_detail"),
        _get(entry, "title_detail"),
    ):
        base = _str(detail, "base") if isinstance(detail, Mapping) else None
        if base:
            return base if base != feed_url else None
    return None


def _authors(mapping: Mapping[str, Any]) -> tuple[str, ...]:
    names = [_str(a, "name") for a in _get(mapping, "authors") or () if isinstance(a, Mapping)]
    found = tuple(name for name in names if name)
    if found:
        return found
    author = _str(mapping, "author")
    return (author,) if author and "@" not in author else ()


def _tags(entry: Mapping[str, Any]) -> Iterator[str]:
    for tag in _get(entry, "tags") or ():
        if isinstance(tag, Mapping):
            value = _str(tag, "label") or _str(tag, "term")
            if value:
                yield value


def _images(entry: Mapping[str, Any]) -> Iterator[str]:
    for media in _get(entry, "media_content") or ():
        if isinstance(media, Mapping) and _is_image(_get(media, "medium"), _get(media, "type")):
            yield from _maybe(_str(media, "url"))
    for thumbnail in _get(entry, "media_thumbnail") or ():
        if isinstance(thumbnail, Mapping):
            yield from _maybe(_str(thumbnail, "url"))
    for link in _get(entry, "links") or ():
        if (
            isinstance(link, Mapping)
            and _get(link, "rel") == "enclosure"
            and str(_get(link, "type") or "").startswith("image/")
        ):
            yield from _maybe(_str(link, "href"))
    image = _get(entry, "image")
    if isinstance(image, Mapping):
        yield from _maybe(_str(image, "href"))


def _is_image(medium: object, mime: object) -> bool:
    if medium or mime:
        return medium == "image" or (isinstance(mime, str) and mime.startswith("image/"))
    return True


def _maybe(value: str | None) -> tuple[str, ...]:
    return (value,) if value else ()
