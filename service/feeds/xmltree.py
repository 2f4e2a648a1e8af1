"""Malformed XML repaired and oversized XML trimmed, by libxml2, before feedparser reads it.

feedparser falls back to a pure-Python "loose" parser on any XML error, and that parser is
slow on hostile input (9 MB of ``<a <a <a`` took 46 s). So feedparser only ever gets
well-formed XML: libxml2 parses in recovery mode (no network, no DTD, no entity
substitution); named entities become character references first (HTML ones: RSS 0.91
relies on them; XML ones: libxml2's recovery loses them); undeclared namespace prefixes and
unknown entity references are neutralised; and the result is checked with expat,
feedparser's own SAX parser, before it is handed over.

Bounded work: items/entries beyond ``max_items`` are dropped here, the newest kept
(:mod:`service.feeds.newest`; feedparser spends ~30 µs per element), and a document still
over ``MAX_ELEMENTS`` elements is refused.

The repaired tree is also where items are split for :mod:`service.feeds.memory`: each kept
item's bytes (``item_bytes``), the channel metadata (``channel_bytes``) and what of the
enclosing elements can change how an item reads (``context_bytes``).
"""

from __future__ import annotations

import html.entities
import re
import xml.parsers.expat
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from service.dates import parse_date
from service.errors import PermanentError, Reason
from service.feeds.newest import keep_newest
from service.feeds.xmlparse import parse_xml

MAX_ELEMENTS = 50_000
_XML_ENTITIES = {
    b"&lt;": b"&#60;",
    b"&gt;": b"&#62;",
    b"&amp;": b"&#38;",
    b"&quot;": b"&#34;",
    b"&apos;": b"&#39;",
}
_NAMED_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_HTML_REFERENCES = {  # b"eacute" -> b"&#233;"; only names that end with ";" in HTML5
    name[:-1].encode("ascii"): "".join(f"&#{ord(char)};" for char in text).encode("ascii")
    for name, text in html.entities.html5.items()
    if name.endswith(";")
}
# Items and entries (RSS 1.0 and 0.90: children of the root; RSS 2.0: of channel; Atom: of
# feed), matched by libxml2 on exact names (a Python loop, or an XPath on local-name(), takes
# seconds over the millions of children a hostile 10 MB document can have).
_RSS10, _RSS090 = "{http://purl.org/rss/1.0/}", "{http://my.netscape.com/rdf/simple/0.9/}"
_ATOM10, _ATOM03 = "{http://www.w3.org/2005/Atom}", "{http://purl.org/atom/ns#}"
ITEM_TAGS = (
    "item",
    "entry",
    f"{_RSS10}item",
    f"{_RSS090}item",
    f"{_ATOM10}entry",
    f"{_ATOM03}entry",
)
CHANNEL_TAGS = ("channel", f"{_RSS10}channel", f"{_RSS090}channel")
# Elements whose text is the story (left whole) and the limits for the rest.
_CONTENT = frozenset({"description", "encoded", "content", "summary", "subtitle", "body"})
_AUTHORS = frozenset(
    {
        "author",
        "creator",
        "contributor",
        "publisher",
        "managingeditor",
        "webmaster",
        "name",
        "email",
        "owner",
    }
)
_URLS = frozenset({"link", "guid", "id", "origlink", "comments", "url", "uri", "href"})
_AUTHOR_CHARS, _TEXT_CHARS, _URL_CHARS = 256, 1024, 4096


@dataclass(frozen=True, slots=True)
class Tree:
    """A repaired feed document: its root, its containers (root and channels) and its kept
    items, in document order; ``positions``: where each kept item was among the document's
    ``total`` items (the root's, then each channel's), before trimming."""

    root: etree._Element
    containers: list[etree._Element]
    items: list[etree._Element]
    positions: tuple[int, ...] = ()
    total: int = 0


def prepare(data: bytes, *, max_items: int) -> bytes:
    """``data`` (UTF-8) as well-formed UTF-8 XML with at most ``max_items`` items."""
    tree = repair(data, max_items=max_items)
    cap_metadata(tree, tree.items)
    return serialise(tree)


def repair(data: bytes, *, max_items: int) -> Tree:
    """``data`` (UTF-8) parsed, repaired and trimmed to at most ``max_items`` items; its
    metadata not yet capped (``cap_metadata``: only for what feedparser will get)."""
    root, errors = parse_xml(_character_references(data))
    channels, items, positions, total = _trim_items(root, max_items)
    elements = int(root.xpath("count(//*)"))
    if elements > MAX_ELEMENTS:
        raise PermanentError(
            f"{elements} XML elements after trimming, over {MAX_ELEMENTS}",
            reason=Reason.HOSTILE_CONTENT,
        )
    if any(error.domain_name == "NAMESPACE" for error in errors):
        _rename_unbound_prefixes(root)
    _replace_entity_references(root)
    return Tree(root, channels, items, positions, total)


def cap_metadata(tree: Tree, items: list[etree._Element]) -> None:
    """The metadata of the channels and of ``items`` capped (see ``_cap_metadata``)."""
    _cap_metadata([*tree.containers, *items])


def serialise(tree: Tree) -> bytes:
    """The tree as the well-formed UTF-8 document feedparser gets."""
    out: bytes = etree.tostring(tree.root.getroottree(), encoding="utf-8", xml_declaration=True)
    _check_well_formed(out)
    return out


def drop(items: list[etree._Element]) -> None:
    """Take ``items`` out of their document."""
    for item in items:
        parent = item.getparent()
        if parent is not None:
            parent.remove(item)


def item_bytes(item: etree._Element) -> bytes:
    """An item as libxml2 writes it (with the namespace declarations in scope, no tail)."""
    out: bytes = etree.tostring(item, encoding="utf-8", with_tail=False)
    return out


def channel_bytes(tree: Tree) -> bytes:
    """The feed's own metadata: every child of the containers that is no item or channel."""
    parts = [
        etree.tostring(child, encoding="utf-8", with_tail=False)
        for container in tree.containers
        for child in container.iterchildren()
        if child.tag not in ITEM_TAGS and child.tag not in CHANNEL_TAGS
    ]
    return b"\x00".join(parts)


def context_bytes(tree: Tree) -> bytes:
    """What of the enclosing elements an item's reading can depend on: the containers'
    names, attributes (``xml:base``, ``xml:lang``, RSS ``version``) and namespaces, and the
    document's prologue (its DOCTYPE)."""
    docinfo = tree.root.getroottree().docinfo
    parts = [str(docinfo.doctype)]
    for container in tree.containers:
        parts.append(str(container.tag))
        parts.append(repr(sorted(container.attrib.items())))
        parts.append(repr(sorted((k or "", v) for k, v in container.nsmap.items())))
    return "\x1f".join(parts).encode("utf-8", "surrogatepass")


def _character_references(data: bytes) -> bytes:
    """Named entity references as character references.

    The five XML ones too: libxml2 in recovery mode silently drops ``&lt;``/``&amp;`` … once
    it has met an error, but keeps ``&#60;``/``&#38;`` (the same characters, everywhere).
    """
    for name, reference in _XML_ENTITIES.items():
        data = data.replace(name, reference)
    return _NAMED_ENTITY.sub(_character_reference, data)


def _character_reference(match: re.Match[bytes]) -> bytes:
    return _HTML_REFERENCES.get(match.group(1), match.group(0))


def _rename_unbound_prefixes(root: etree._Element) -> None:
    """``dc:creator`` with no ``xmlns:dc`` becomes ``dc_creator`` (feedparser dispatches its
    handlers on ``prefix_name``, so well-known prefixes still work)."""
    for element in root.iter(tag=etree.Element):
        tag = element.tag
        if isinstance(tag, str) and ":" in tag and not tag.startswith("{"):
            element.tag = tag.replace(":", "_")
        for name in [n for n in element.attrib if ":" in n and not n.startswith("{")]:
            value = element.attrib.pop(name)
            element.attrib[name.replace(":", "_")] = value


def _replace_entity_references(root: etree._Element) -> None:
    """An undefined entity reference is kept as the text it was written as."""
    for entity in list(root.iter(tag=etree.Entity)):
        text = str(entity.text or "") + (entity.tail or "")
        _append_text(entity, text)
        parent = entity.getparent()
        if parent is not None:
            parent.remove(entity)


def _append_text(node: etree._Element, text: str) -> None:
    previous = node.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + text
        return
    parent = node.getparent()
    if parent is not None:
        parent.text = (parent.text or "") + text


def _trim_items(
    root: etree._Element, max_items: int
) -> tuple[list[etree._Element], list[etree._Element], tuple[int, ...], int]:
    """Keep the newest ``max_items`` items/entries; returns the feed's containers (root and
    channels), the kept items, their positions among all items, and how many there were."""
    channels = [root, *root.iterchildren(*CHANNEL_TAGS)]
    items = [item for container in channels for item in container.iterchildren(*ITEM_TAGS)]
    kept = keep_newest(items, max_items, _item_date)
    if len(kept) == len(items):
        return channels, kept, tuple(range(len(items))), len(items)
    keep = set(kept)
    drop([item for item in items if item not in keep])
    position = {item: n for n, item in enumerate(items)}
    return channels, kept, tuple(position[item] for item in kept), len(items)


_PUBLISHED = ("pubdate", "published", "issued", "date", "created")
_UPDATED = ("updated", "modified", "lastbuilddate")


def _item_date(item: etree._Element) -> datetime | None:
    """The item's publication date, else its update date, as the feed wrote it."""
    texts: dict[str, str] = {}
    for child in item.iterchildren(tag=etree.Element):
        name = _local(child.tag)
        if name in _PUBLISHED or name in _UPDATED:
            texts.setdefault(name, (child.text or "").strip())
    for name in (*_PUBLISHED, *_UPDATED):
        date = parse_date(texts.get(name))
        if date is not None:
            return date
    return None


def _cap_metadata(containers: list[etree._Element]) -> None:
    """Metadata texts and attributes cut to a sane length; content elements left whole.

    feedparser runs regexes on metadata that are slow on long values: its e-mail regex on
    author fields is quadratic (200 KB of ``a.a.a.`` in ``<author>``: 250 s).
    """
    members = set(containers)
    for container in containers:
        for child in container.iterchildren(tag=etree.Element):
            name = _local(child.tag)
            if name in _CONTENT or child in members:
                continue
            limit = (
                _AUTHOR_CHARS if name in _AUTHORS else _URL_CHARS if name in _URLS else _TEXT_CHARS
            )
            for element in child.iter(tag=etree.Element):
                _cap(element, limit)


def _cap(element: etree._Element, limit: int) -> None:
    if element.text and len(element.text) > limit:
        element.text = element.text[:limit]
    if element.tail and len(element.tail) > limit:
        element.tail = element.tail[:limit]
    for key, value in element.attrib.items():
        if len(value) > _URL_CHARS:
            element.attrib[key] = value[:_URL_CHARS]


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _check_well_formed(data: bytes) -> None:
    """What feedparser's strict parser will accept (expat, namespaces on): never let it fall
    back to its slow loose parser."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise PermanentError(
            f"XML could not be repaired: {exc}", reason=Reason.PARSE_ERROR
        ) from exc
