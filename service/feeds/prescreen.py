"""The checks a feed or sitemap body passes before any XML parser: size, syntax, declarations.

DOCTYPE internal subsets and ENTITY declarations are refused *before* any XML parser sees the
document (a 110 KB quadratic-entity feed costs feedparser a minute and gigabytes; external
entities must never be resolved). The check runs on the decoded document (so no encoding
trick — UTF-16/32, EBCDIC, UTF-7 declared in the prologue — hides a declaration from it), and
again on exactly the bytes feedparser gets. A DOCTYPE with only a public or system identifier
— common in RSS 0.91 — is harmless and allowed: libxml2 here runs with no DTD loading and no
network, and feedparser strips the DOCTYPE before its SAX parser (which loads no external
DTD or entity) starts.

No pattern here backtracks: hostile input must not make the gate itself slow.
"""

from __future__ import annotations

import codecs
import re
from typing import Literal

from service.errors import PermanentError, Reason

Syntax = Literal["json", "xml"]  # how the feed is written

_WHITESPACE = b" \t\r\n"
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
DOCTYPE_WINDOW = 1024  # a DOCTYPE's name and public/system ids fit well within this
_PROLOG_ITEM = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.DOTALL | re.I)
_ROOT = re.compile(rb"\s*<([A-Za-z_][\w.:-]*)")


def check_size(content: bytes, max_bytes: int) -> None:
    if len(content) > max_bytes:
        raise PermanentError(
            f"feed body is {len(content)} bytes, over the {max_bytes} limit",
            reason=Reason.TOO_LARGE,
        )


def sniff_kind(content: bytes) -> Syntax:
    """``json`` when the body opens with ``{``/``[``, else ``xml``; an empty body is refused."""
    head = content[:1024].removeprefix(codecs.BOM_UTF8).lstrip(_WHITESPACE)
    if not head:
        if content.strip(_WHITESPACE + codecs.BOM_UTF8):
            return "xml"  # more than 1 KB of leading whitespace: let the parser judge
        raise PermanentError("empty body", reason=Reason.NOT_A_FEED)
    return "json" if head[:1] in (b"{", b"[") else "xml"


def refuse_declarations(data: bytes) -> None:
    """Raise ``HOSTILE_CONTENT`` on any ENTITY declaration or DOCTYPE internal subset.

    Anywhere in the document, not only in the prologue: simple, and the price is small (a
    CDATA section quoting ``<!ENTITY`` literally is refused too).
    """
    if _ENTITY_DECL.search(data):
        raise PermanentError("ENTITY declaration refused", reason=Reason.HOSTILE_CONTENT)
    if _has_internal_subset(data):
        raise PermanentError(
            "DOCTYPE with an internal subset refused", reason=Reason.HOSTILE_CONTENT
        )


def _has_internal_subset(data: bytes) -> bool:
    """A ``[`` before the ``>`` closing a DOCTYPE (searched in a bounded window, without a
    backtracking regex: hostile input must not make the gate itself slow)."""
    if b"[" not in data:
        return False
    clear_to = 0  # data[start:clear_to] is known to hold neither ">" nor "[": not rescanned
    for match in _DOCTYPE.finditer(data):
        start, limit = max(match.end(), clear_to), match.end() + DOCTYPE_WINDOW
        close = data.find(b">", start, limit)
        if data.find(b"[", start, close if close != -1 else limit) != -1:
            return True
        if close == -1:
            clear_to = limit
    return False


def root_name(data: bytes) -> str | None:
    """The local name of the root element (lower case), skipping the prologue."""
    position = 0
    for _ in range(1000):
        item = _PROLOG_ITEM.match(data, position)
        if item is None:
            break
        position = item.end()
    root = _ROOT.match(data, position)
    if root is None:
        return None
    return root.group(1).decode("ascii", "replace").rsplit(":", 1)[-1].lower()
