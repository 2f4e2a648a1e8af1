"""Where a feed says its WebSub hub is: PURE (bytes and a header in, URLs out).

W3C WebSub §4: the hub and the topic (``self``) are advertised by HTTP ``Link`` headers
(preferred) or in the document: ``<atom:link rel="hub">``/``<link rel="hub">`` (Atom, and
RSS with the Atom namespace, or without it). Only the document's head is read: the first
``HEAD_BYTES``, parsed by libxml2 in recovery mode (no network, no DTD, no entities) after
the feeds' declaration gate. The topic defaults to the URL the feed was fetched from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from service.errors import PermanentError
from service.feeds import prescreen
from service.feeds.decode import to_utf8
from service.feeds.xmlparse import parse_xml
from service.urls import resolve_url

HEAD_BYTES = 65_536
_MAX_LINK_HEADER = 8192
_LINK_VALUE = re.compile(r"<([^<>]{1,4096})>([^<]{0,1024})")
_REL = re.compile(r"""rel\s*=\s*(?:"([^"]{0,200})"|([^\s;,"]{1,200}))""", re.IGNORECASE)


@dataclass(frozen=True)
class Hub:
    hub: str
    topic: str


def find_hub(content: bytes, link_header: str | None, *, url: str) -> Hub | None:
    """The hub and topic a fetched feed advertises, or ``None``."""
    hubs, selves = _header_links(link_header, url=url)
    if not hubs:
        doc_hubs, doc_selves = _document_links(content, url=url)
        hubs, selves = doc_hubs, selves or doc_selves
    if not hubs:
        return None
    return Hub(hub=hubs[0], topic=selves[0] if selves else url)


def _header_links(value: str | None, *, url: str) -> tuple[list[str], list[str]]:
    hubs: list[str] = []
    selves: list[str] = []
    for target, params in _LINK_VALUE.findall((value or "")[:_MAX_LINK_HEADER]):
        rel = _REL.search(params)
        rels = (rel.group(1) or rel.group(2)).lower().split() if rel else []
        _collect(resolve_url(url, target), rels, hubs, selves)
    return hubs, selves


def _document_links(content: bytes, *, url: str) -> tuple[list[str], list[str]]:
    hubs: list[str] = []
    selves: list[str] = []
    try:
        head = to_utf8(content[:HEAD_BYTES], None)
        prescreen.refuse_declarations(head)
    except PermanentError:
        return hubs, selves
    try:
        root, _errors = parse_xml(head)
    except PermanentError:
        return hubs, selves
    containers = [root, *(c for c in root if _local(c.tag) == "channel")]
    for container in containers:
        for link in container.iterchildren(tag=etree.Element):
            if _local(link.tag) == "link" and link.get("href"):
                rels = (link.get("rel") or "").lower().split()
                _collect(resolve_url(url, link.get("href")), rels, hubs, selves)
    return hubs, selves


def _collect(target: str | None, rels: list[str], hubs: list[str], selves: list[str]) -> None:
    if target is None:
        return
    if "hub" in rels and target not in hubs:
        hubs.append(target)
    if "self" in rels and target not in selves:
        selves.append(target)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""
