"""The gate in front of the XML parser: size, kind, decoding, and refused declarations.

DOCTYPE internal subsets and ENTITY declarations are refused *before* feedparser sees the
bytes (a 110 KB quadratic-entity feed costs feedparser a minute and gigabytes; external
entities must never be resolved). The check runs on exactly the UTF-8 bytes feedparser will
parse, produced by feedparser's own decoder, so no encoding trick (UTF-16/32, EBCDIC, UTF-7
declared in the prologue …) can smuggle a declaration past it. A DOCTYPE with only a public or
system identifier — common in RSS 0.91 — is harmless and allowed: feedparser strips it, and
its SAX parser loads no external DTD or entity.
"""

from __future__ import annotations

import codecs
import re
from typing import Literal

from feedparser.encodings import convert_to_utf8

from service.errors import PermanentError, Reason

Kind = Literal["json", "xml"]

_WHITESPACE = b" \t\r\n"
_NON_ASCII_BOMS = (
    codecs.BOM_UTF32_BE,
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF16_BE,
    codecs.BOM_UTF16_LE,
)
_XML_ENCODING = re.compile(rb"^<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})")
_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?([A-Za-z0-9._:-]{1,40})", re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE(?:[^>\[\"']|\"[^\"]*\"|'[^']*')*\[", re.IGNORECASE)
_PROLOG_ITEM = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.DOTALL | re.I)
_ROOT = re.compile(rb"\s*<([A-Za-z_][\w.:-]*)")
_UTF8_NAMES = frozenset({"utf-8", "utf8"})


def check_size(content: bytes, max_bytes: int) -> None:
    if len(content) > max_bytes:
        raise PermanentError(
            f"feed body is {len(content)} bytes, over the {max_bytes} limit",
            reason=Reason.TOO_LARGE,
        )


def sniff_kind(content: bytes) -> Kind:
    """``json`` when the body opens with ``{``/``[``, else ``xml``; an empty body is refused."""
    head = content[:1024].removeprefix(codecs.BOM_UTF8).lstrip(_WHITESPACE)
    if not head:
        if content.strip(_WHITESPACE + codecs.BOM_UTF8):
            return "xml"  # more than 1 KB of leading whitespace: let the parser judge
        raise PermanentError("empty body", reason=Reason.NOT_A_FEED)
    return "json" if head[:1] in (b"{", b"[") else "xml"


def to_utf8(content: bytes, content_type: str | None) -> bytes:
    """The document as the UTF-8 bytes (with a UTF-8 declaration) feedparser will parse."""
    data = _strip_leading_whitespace(content)
    declared = _declared_encoding(data)
    # The header charset only counts when the document itself declares nothing.
    charset = (
        None if declared or data.startswith(_NON_ASCII_BOMS) else _header_charset(content_type)
    )
    effective = declared or charset
    if not data.startswith(_NON_ASCII_BOMS) and (
        effective is None or effective.lower() in _UTF8_NAMES
    ):
        data = _repair_mixed_utf8(data)
    headers = {"content-type": f"application/xml; charset={charset}"} if charset else {}
    try:
        converted: bytes = convert_to_utf8(headers, data, {})
    except (ValueError, LookupError) as exc:  # e.g. a NUL inside the declared encoding name
        raise PermanentError(f"undecodable: {exc}", reason=Reason.PARSE_ERROR) from exc
    return converted


def refuse_declarations(data: bytes) -> None:
    """Raise ``HOSTILE_CONTENT`` on any ENTITY declaration or DOCTYPE internal subset."""
    if _ENTITY_DECL.search(data):
        raise PermanentError("ENTITY declaration refused", reason=Reason.HOSTILE_CONTENT)
    if _INTERNAL_SUBSET.search(data):
        raise PermanentError(
            "DOCTYPE with an internal subset refused", reason=Reason.HOSTILE_CONTENT
        )


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


def _strip_leading_whitespace(content: bytes) -> bytes:
    """Whitespace before ``<?xml`` makes the declaration illegal; drop it (BOM kept)."""
    bom = codecs.BOM_UTF8 if content.startswith(codecs.BOM_UTF8) else b""
    rest = content[len(bom) :]
    stripped = rest.lstrip(_WHITESPACE)
    if stripped is rest or not stripped.startswith(b"<"):
        return content
    return bom + stripped


def _declared_encoding(data: bytes) -> str | None:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8"
    match = _XML_ENCODING.match(data)
    return match.group(1).decode("ascii").lower() if match else None


def _header_charset(content_type: str | None) -> str | None:
    match = _CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _repair_mixed_utf8(data: bytes) -> bytes:
    """Mostly-UTF-8 with a few bad bytes: decode as UTF-8 with replacement characters.

    feedparser would fall back to windows-1252 for the whole document and turn every good
    non-ASCII character into mojibake. A document with more bad bytes than good sequences
    is left alone: it is in a legacy encoding, which feedparser's fallback handles.
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        bad = text.count("\ufffd")
        good = len(text) - len(text.encode("ascii", "ignore")) - bad
        if good > bad:
            return text.encode("utf-8")
    return data
