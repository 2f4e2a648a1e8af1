"""Feed lists in and out: OPML (import/export) and plain text (one URL a line). Pure.

Reading uses defusedxml: entity declarations are refused (``HOSTILE_CONTENT``), external
entities and DTDs are never fetched. Only absolute http(s) ``xmlUrl``s are kept, in document
order (nested outlines included), each once.
"""

from __future__ import annotations

import codecs
import xml.etree.ElementTree as ET  # building and serialising only: parsing is defusedxml's
from collections.abc import Iterable

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as defused_fromstring

from service.characters import INVISIBLE
from service.errors import PermanentError, Reason
from service.urls import is_http_url

ListedFeed = tuple[str, str | None]  # (feed URL, title) as a feed list gives it

MAX_BYTES = 10 * 1024 * 1024


def parse_opml(content: bytes, *, max_bytes: int = MAX_BYTES) -> list[ListedFeed]:
    """``(xmlUrl, title)`` of every feed outline, deduplicated, http(s) only."""
    _check_size(content, max_bytes)
    if content.startswith(codecs.BOM_UTF8) or content[:1].isspace():
        content = content.removeprefix(codecs.BOM_UTF8).lstrip()  # before <?xml: tolerated
    try:
        root = defused_fromstring(
            content, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise PermanentError(f"OPML refused: {exc!r}", reason=Reason.HOSTILE_CONTENT) from exc
    except ParseError as exc:
        raise PermanentError(f"OPML does not parse: {exc}", reason=Reason.PARSE_ERROR) from exc
    if _local(root.tag) != "opml":
        raise PermanentError(f"not OPML (root element {root.tag!r})", reason=Reason.NOT_A_FEED)
    feeds: list[ListedFeed] = []
    for outline in root.iter():
        if _local(outline.tag) != "outline":
            continue
        url = _url(outline.attrib)
        if url is not None:
            title = _clean(outline.get("title")) or _clean(outline.get("text"))
            feeds.append((url, title if title != url else None))
    return _dedupe(feeds)


def render_opml(feeds: Iterable[ListedFeed], *, title: str = "newswire feeds") -> bytes:
    """An OPML 2.0 document listing ``feeds`` (UTF-8, with an XML declaration)."""
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = _clean(title) or ""
    body = ET.SubElement(opml, "body")
    for url, feed_title in _dedupe(feeds):
        attributes = {"type": "rss", "xmlUrl": INVISIBLE.sub("", url)}
        name = _clean(feed_title)
        if name:
            attributes = {"type": "rss", "text": name, "title": name, **attributes}
        else:
            attributes["text"] = attributes["xmlUrl"]
        ET.SubElement(body, "outline", attributes)
    ET.indent(opml)
    document: bytes = ET.tostring(opml, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def read_feed_list(content: bytes, *, max_bytes: int = MAX_BYTES) -> list[ListedFeed]:
    """OPML, or plain text with one URL a line (optionally followed by a title; blank lines
    and ``#`` comments ignored). Text lines are returned as written, valid or not, so the
    caller can report the bad ones."""
    _check_size(content, max_bytes)
    text = content.removeprefix(codecs.BOM_UTF8)
    if text.lstrip().startswith(b"<"):
        return parse_opml(content, max_bytes=max_bytes)
    feeds: list[ListedFeed] = []
    for line in text.decode("utf-8", "replace").splitlines():
        line = INVISIBLE.sub("", line).strip()
        if not line or line.startswith("#"):
            continue
        url, *rest = line.split(None, 1)
        title = rest[0] if rest and not rest[0].startswith("#") else None
        feeds.append((url, _clean(title)))
    return _dedupe(feeds)


def _check_size(content: bytes, max_bytes: int) -> None:
    if len(content) > max_bytes:
        raise PermanentError(
            f"feed list is {len(content)} bytes, over {max_bytes}", reason=Reason.TOO_LARGE
        )


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _url(attributes: dict[str, str]) -> str | None:
    """``xmlUrl`` (spelled in any case, as some exporters do), if an http(s) URL."""
    for name, value in attributes.items():
        if name.lower() == "xmlurl" and value.strip():
            return value.strip() if is_http_url(value.strip()) else None
    return None


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    return " ".join(INVISIBLE.sub("", value).split()) or None


def _dedupe(feeds: Iterable[ListedFeed]) -> list[ListedFeed]:
    """Each URL once, where it first appears; a missing title is taken from a duplicate."""
    seen: dict[str, str | None] = {}
    for url, title in feeds:
        if url not in seen or (seen[url] is None and title):
            seen[url] = title
    return list(seen.items())
