"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser does not read.

Parsing is bounded: the body is size-checked before it gets here, orjson refuses nesting
deeper than 1024 levels (reported as ``HOSTILE_CONTENT``), and this module only ever reads
known keys at known depths — it never walks the document generically.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Mapping
from datetime import datetime

import orjson

from service.dates import parse_date
from service.errors import PermanentError, Reason
from service.feeds.memory import EMPTY, FeedMemory, item_hash
from service.feeds.newest import keep_newest
from service.feeds.raw import ItemRef, RawChannel, RawDate, RawEntry, RawFeed, RawText

_VERSION_PREFIXES = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")

JsonObject = Mapping[str, object]


def read_json(
    content: bytes, *, max_items: int, memory: FeedMemory = EMPTY, context: bytes = b""
) -> RawFeed:
    """The feed in a JSON Feed document (its newest ``max_items`` items); ``NOT_A_FEED`` for
    any other JSON.

    Items whose hash ``memory`` holds are not read again (see :mod:`service.feeds.memory`):
    an item is hashed as its JSON with sorted keys, within ``context`` and the feed's
    version, title and authors (which its entry reads or inherits).
    """
    document = _load(content)
    if not isinstance(document, Mapping):
        raise PermanentError("JSON, but not a JSON Feed (not an object)", reason=Reason.NOT_A_FEED)
    version = _str(document, "version")
    items = document.get("items")
    if version is None or not version.startswith(_VERSION_PREFIXES) or not isinstance(items, list):
        raise PermanentError(
            "JSON, but not a JSON Feed (no jsonfeed.org version or no items)",
            reason=Reason.NOT_A_FEED,
        )
    channel = RawChannel(
        format=_format(version),
        title=RawText(_str(document, "title")),
        site_url=_str(document, "home_page_url"),
        authors=_authors(document),
    )
    kept = keep_newest([i for i in items if isinstance(i, Mapping)], max_items, _item_date)
    context += b"\x1e" + orjson.dumps([channel.format, channel.title.value, channel.authors])
    refs = tuple(ItemRef(h, memory.items.get(h)) for h in (_hash(context, i) for i in kept))
    fresh = (item for item, ref in zip(kept, refs, strict=True) if ref.known is None)
    return RawFeed(channel, entries=(_entry(item) for item in fresh), items=refs)


def _hash(context: bytes, item: JsonObject) -> str:
    """The item's hash; "" (never remembered: always read) when orjson cannot write it back
    (nested deeper than it writes)."""
    try:
        return item_hash(context, orjson.dumps(item, option=orjson.OPT_SORT_KEYS))
    except orjson.JSONEncodeError:
        return ""


def _item_date(item: JsonObject) -> datetime | None:
    return parse_date(_str(item, "date_published")) or parse_date(_str(item, "date_modified"))


def _load(content: bytes) -> object:
    body = content.removeprefix(codecs.BOM_UTF8)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc):
            raise PermanentError(
                f"JSON nested too deeply: {exc}", reason=Reason.HOSTILE_CONTENT
            ) from exc
        error = exc
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        # Invalid UTF-8 in a string: keep the document, with replacement characters.
        try:
            return orjson.loads(body.decode("utf-8", "replace"))
        except orjson.JSONDecodeError:
            pass
    raise PermanentError(f"invalid JSON: {error}", reason=Reason.PARSE_ERROR) from error


def _format(version: str) -> str:
    number = version.rsplit("/", 1)[-1].strip()
    digits = "".join(ch for ch in number if ch.isdigit())[:3] or "1"
    return f"jsonfeed{digits if len(digits) > 1 else digits + '0'}"


def _entry(item: JsonObject) -> RawEntry:
    url = _str(item, "url")
    html = _str(item, "content_html")
    content = RawText(html, True) if html else RawText(_str(item, "content_text"))
    return RawEntry(
        guid=_id(item.get("id")),
        links=tuple(link for link in (url, _str(item, "external_url")) if link),
        title=RawText(_str(item, "title")),
        summary=RawText(_str(item, "summary")),
        content=content,
        authors=_authors(item),
        published=RawDate(_str(item, "date_published")),
        updated=RawDate(_str(item, "date_modified")),
        tags=tuple(tag for tag in _list(item, "tags") if isinstance(tag, str)),
        images=tuple(_images(item)),
    )


def _str(mapping: JsonObject, key: str) -> str | None:
    value = mapping.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _list(mapping: JsonObject, key: str) -> list[object]:
    value = mapping.get(key)
    return value if isinstance(value, list) else []


def _id(value: object) -> str | None:
    """Ids must be strings, but numbers are common in the wild."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) and value.strip() else None


def _authors(mapping: JsonObject) -> tuple[str, ...]:
    """``authors`` (1.1), else ``author`` (1.0): the names."""
    authors = _list(mapping, "authors") or [mapping.get("author")]
    names = (_str(a, "name") for a in authors if isinstance(a, Mapping))
    return tuple(name for name in names if name)


def _images(item: JsonObject) -> Iterator[str]:
    for key in ("image", "banner_image"):
        value = _str(item, key)
        if value:
            yield value
    for attachment in _list(item, "attachments"):
        if isinstance(attachment, Mapping):
            mime = _str(attachment, "mime_type") or ""
            url = _str(attachment, "url")
            if url and mime.startswith("image/"):
                yield url
