"""Where a feed document's items are, found in its bytes without building its tree (PURE).

A changed poll of a news feed brings one new item among fifty; repairing the whole
document with libxml2 and serialising every item again only to hash it was a third of the
parse. For a document that is well-formed as it stands (expat, with namespaces, the parser
feedparser itself uses), the items' byte spans are found in one expat pass that only keeps
a stack of element kinds. The items met before are cut out of the bytes, and only what is
left (the channel and the new items) is repaired and handed to feedparser.

The items are the elements :mod:`service.feeds.xmltree` calls items (``item``/``entry``
children of the root or of a ``channel``), listed in the same order (the root's, then each
channel's), so the two ways of splitting a document agree. No spans (``None``: the tree
path then reads the document) for a document that expat refuses (malformed, an unbound
prefix, an undefined entity: the repairs are for libxml2), has more than ``max_elements``
elements (the tree path refuses it), an item written as an empty element, or a channel
with no child.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Collection, Iterable
from dataclasses import dataclass

_ROOT, _CONTAINER, _ITEM, _OTHER = 0, 1, 2, 3
_START_NAME = re.compile(rb"<([^\s/>]+)")
_END_TAG = re.compile(rb"</([^\s>]+)\s*>")


@dataclass(frozen=True, slots=True)
class ItemSpans:
    """The items of a document as ``(start, end)`` byte offsets, and its ``head``: the
    bytes up to the root's first child and each channel's start tag, which is what an
    item's reading can depend on besides its own bytes (prologue, namespaces,
    ``xml:base``, ``xml:lang``, RSS ``version``)."""

    head: bytes
    spans: tuple[tuple[int, int], ...]

    def without(self, data: bytes, drop: Collection[int]) -> bytes:
        """``data`` with the items whose indexes are in ``drop`` cut out."""
        cuts = sorted(self.spans[i] for i in drop)
        pieces, position = [], 0
        for start, end in cuts:
            pieces.append(data[position:start])
            position = end
        pieces.append(data[position:])
        return b"".join(pieces)


class _Unsuitable(Exception):
    """The document is left to the tree path."""


def find_items(
    data: bytes,
    *,
    item_tags: Iterable[str],
    channel_tags: Iterable[str],
    max_elements: int,
) -> ItemSpans | None:
    """The items of ``data`` (UTF-8), or None (see the module docstring).

    ``item_tags`` and ``channel_tags`` are names in Clark notation (``{uri}local``), as
    lxml writes them.
    """
    items, channels = _expat_names(item_tags), _expat_names(channel_tags)
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    stack: list[int] = []
    head_ends: list[int] = []  # where each container's first child starts
    open_heads: list[int] = []  # start of the containers whose first child is not met yet
    found: list[tuple[int, int, int]] = []  # (container index, start, end)
    item_start, item_name = 0, b""
    containers = 0
    elements = 0

    def start(name: str, _attributes: object) -> None:
        nonlocal item_start, item_name, containers, elements
        elements += 1
        if elements > max_elements:
            raise _Unsuitable
        position = parser.CurrentByteIndex
        if not stack:
            stack.append(_ROOT)
            open_heads.append(0)  # the prologue is part of the root's head
            return
        parent = stack[-1]
        if parent in (_ROOT, _CONTAINER) and open_heads:
            head_ends.append(open_heads.pop())
            head_ends.append(position)
        if parent == _ROOT and name in channels:
            containers += 1
            open_heads.append(position)
            stack.append(_CONTAINER)
        elif parent in (_ROOT, _CONTAINER) and name in items:
            item_start, item_name = position, _written_name(data, position)
            stack.append(_ITEM)
        else:
            stack.append(_OTHER)

    def end(_name: str) -> None:
        kind = stack.pop()
        if kind == _ITEM:
            end = _end_tag_end(data, parser.CurrentByteIndex, item_name)
            found.append((_container_of(stack, containers), item_start, end))
        elif kind == _CONTAINER and open_heads:
            raise _Unsuitable  # a channel with no child: nothing to find, the tree reads it

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except (_Unsuitable, xml.parsers.expat.ExpatError, ValueError):
        return None
    found.sort(key=lambda item: item[0])  # stable: the root's items, then each channel's
    head = b"\x1f".join(data[a:b] for a, b in zip(head_ends[::2], head_ends[1::2], strict=True))
    return ItemSpans(head, tuple((a, b) for _c, a, b in found))


def _container_of(stack: list[int], containers: int) -> int:
    """0 for an item of the root, else the number of the channel it is in (1, 2 …)."""
    return containers if stack[-1] == _CONTAINER else 0


def _written_name(data: bytes, position: int) -> bytes:
    """The name of the start tag at ``position`` as written (with its prefix)."""
    match = _START_NAME.match(data, position)
    if match is None:
        raise _Unsuitable
    return match.group(1)


def _end_tag_end(data: bytes, position: int, name: bytes) -> int:
    """The offset after the end tag ``</name>`` that starts at ``position``. An element
    written empty (``<item/>``) has no end tag there: the document goes to the tree."""
    match = _END_TAG.match(data, position)
    if match is None or match.group(1) != name:
        raise _Unsuitable
    return match.end()


def _expat_names(tags: Iterable[str]) -> frozenset[str]:
    """``{uri}local`` as expat names it with a space as its separator: ``uri local``."""
    return frozenset(tag[1:].replace("}", " ", 1) if tag.startswith("{") else tag for tag in tags)
