"""Where a feed document's items are, found in its bytes without building its tree (PURE).

A changed poll of a news feed brings one new item among fifty; repairing the whole
document with libxml2 and serialising every item again only to hash it was a third of the
parse. For a document that is well-formed as it stands (expat, with namespaces, the parser
feedparser itself uses), the items' byte spans are found in one expat pass that only keeps
a stack of element kinds outside items. Inside an item (where most of a feed's elements
are) it listens to end tags only, for the item's own: an element of the item's name
nested in it would end first, so an item whose bytes hold a start tag of its name (outside
CDATA, comments and processing instructions, where markup is text) is left to the tree
path. A document with more ``<`` than ``max_elements`` (so perhaps more elements) is
walked element by element instead, counting them. The items met before are cut out of the
bytes, and only what is left (the channel and the new items) is repaired and handed to
feedparser.

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

_ROOT, _CONTAINER, _OTHER = 0, 1, 2
_START_NAME = re.compile(rb"<([^\s/>]+)")
_END_TAG = re.compile(rb"</([^\s>]+)\s*>")
# What is text in a well-formed document although it may hold "<name": the leftmost match
# wins, so a comment marker inside CDATA (or the reverse) is read as the parser reads it.
_QUOTED = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|<\?.*?\?>", re.DOTALL)


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
    walk = _Walk(data, _expat_names(item_tags), _expat_names(channel_tags), max_elements)
    walk.counting = data.count(b"<") > max_elements
    try:
        walk.parser.Parse(data, True)
    except (_Unsuitable, xml.parsers.expat.ExpatError, ValueError):
        return None
    found = sorted(walk.found, key=lambda item: item[0])  # the root's, then each channel's
    ends = walk.head_ends
    head = b"\x1f".join(data[a:b] for a, b in zip(ends[::2], ends[1::2], strict=True))
    return ItemSpans(head, tuple((a, b) for _c, a, b in found))


class _Walk:
    """One expat pass: the kinds of the open elements outside items, only a depth inside
    one (most of a feed's elements are there)."""

    def __init__(
        self, data: bytes, items: frozenset[str], channels: frozenset[str], max_elements: int
    ) -> None:
        self.data, self.items, self.channels = data, items, channels
        self.max_elements = max_elements
        self.parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
        self.stack: list[int] = []
        self.head_ends: list[int] = []  # (start, end) of each container's head
        self.open_heads: list[int] = []  # containers whose first child is not met yet
        self.found: list[tuple[int, int, int]] = []  # (container number, start, end)
        self.item_start, self.item_name, self.item_expanded = 0, b"", ""
        self.containers = self.elements = self.inner = 0
        self.counting = True  # every element inside items seen (and counted), or end tags only
        self._outside()

    def _outside(self) -> None:
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end

    def start(self, name: str, _attributes: object) -> None:
        self._count()
        position = self.parser.CurrentByteIndex
        stack = self.stack
        if not stack:
            stack.append(_ROOT)
            self.open_heads.append(0)  # the prologue is part of the root's head
            return
        parent = stack[-1]
        if parent != _OTHER and self.open_heads:
            self.head_ends += (self.open_heads.pop(), position)
        if parent == _ROOT and name in self.channels:
            self.containers += 1
            self.open_heads.append(position)
            stack.append(_CONTAINER)
        elif parent != _OTHER and name in self.items:
            self.item_start, self.item_name = position, _written_name(self.data, position)
            self.item_expanded = name
            if self.counting:
                self.parser.StartElementHandler = self.start_inner
                self.parser.EndElementHandler = self.end_inner
            else:
                self.parser.StartElementHandler = None
                self.parser.EndElementHandler = self.end_of_item
        else:
            stack.append(_OTHER)

    def end(self, _name: str) -> None:
        if self.stack.pop() == _CONTAINER and self.open_heads:
            raise _Unsuitable  # a channel with no child: nothing to find, the tree reads it

    def start_inner(self, _name: str, _attributes: object) -> None:
        self._count()
        self.inner += 1

    def end_inner(self, _name: str) -> None:
        if self.inner:
            self.inner -= 1
            return
        end = _end_tag_end(self.data, self.parser.CurrentByteIndex, self.item_name)
        self.found.append((_container_of(self.stack, self.containers), self.item_start, end))
        self._outside()

    def end_of_item(self, name: str) -> None:
        """(End tags only.) The item ends at the first end tag of its name, unless an
        element of that name is nested in it (then the document goes to the tree)."""
        if name != self.item_expanded:
            return
        position = self.parser.CurrentByteIndex
        if _start_tag_within(self.data, self.item_start + 1, position, self.item_name):
            raise _Unsuitable
        end = _end_tag_end(self.data, position, self.item_name)
        self.found.append((_container_of(self.stack, self.containers), self.item_start, end))
        self._outside()

    def _count(self) -> None:
        self.elements += 1
        if self.elements > self.max_elements:
            raise _Unsuitable


def _container_of(stack: list[int], containers: int) -> int:
    """0 for an item of the root, else the number of the channel it is in (1, 2 …)."""
    return containers if stack[-1] == _CONTAINER else 0


def _written_name(data: bytes, position: int) -> bytes:
    """The name of the start tag at ``position`` as written (with its prefix)."""
    match = _START_NAME.match(data, position)
    if match is None:
        raise _Unsuitable
    return match.group(1)


def _start_tag_within(data: bytes, start: int, end: int, name: bytes) -> bool:
    """Whether ``data[start:end]`` holds a start tag ``<name …`` that is markup."""
    tag = re.compile(b"<" + re.escape(name) + rb"[\s/>]")
    if tag.search(data, start, end) is None:
        return False
    return tag.search(_QUOTED.sub(b"", data[start:end])) is not None


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
