"""An XML document's bytes, in whatever encoding, as UTF-8 with a UTF-8 declaration.

The order of evidence follows XML 1.0 Appendix F and feedparser: a byte-order mark, else the
encoding the first bytes reveal (UTF-16/32, EBCDIC) and the one the declaration names, else
the HTTP charset (only when the document says nothing); then UTF-8, windows-1252 and
ISO-8859-2 as fallbacks (the last decodes anything). Two repairs on top: valid UTF-8
declared as a legacy single-byte encoding is read as UTF-8, and mostly-UTF-8 with a few bad
bytes keeps its good characters (feedparser would turn them all into mojibake).

Not feedparser's ``convert_to_utf8``: its declaration regex takes minutes on a hostile first
line (13 KB of ``encoding="a"`` repeated: 9 s), and every pattern here is bounded.
"""

from __future__ import annotations

import codecs
import re

from service.errors import PermanentError, Reason

UTF8_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"
_WHITESPACE = b" \t\r\n"
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_MARKERS = (  # "<?" (or "<?xm") without a BOM
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),
)
_DECLARED = re.compile(r"<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']")
_DECLARATION = re.compile(r"<\?xml[^>]{0,300}?\?>")
_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?([A-Za-z0-9._:-]{1,40})", re.IGNORECASE)
_FALLBACKS = ("utf-8", "windows-1252", "iso-8859-2")
# Codecs that are no character encoding of a document (or a way to smuggle markup).
_REFUSED = frozenset(
    {"utf-7", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "rot-13", "undefined"}
)
_SINGLE_BYTE = re.compile(r"(iso-?8859-\d+|windows-125\d|cp125\d|latin-?\d|l\d|us-ascii|ascii)$")


def to_utf8(content: bytes, content_type: str | None, *, encoding: str | None = None) -> bytes:
    """``content`` decoded as described above, with its declaration saying UTF-8.

    ``encoding``, the one the fetcher found (``FetchedPage.encoding``: the HTTP charset, else
    detection on the bytes), stands in for the HTTP charset: a document that says nothing
    itself is read in it rather than guessed again here."""
    data = _strip_leading_whitespace(content)
    sniffed, data = _sniff(data)
    declared = _declared(data, sniffed)
    if sniffed and declared and declared.startswith(("utf-16", "utf-32", "utf16", "utf32")):
        declared = sniffed  # "utf-16" in a UTF-16LE document: the byte order is the BOM's
    label = declared or (None if sniffed else encoding or _header_charset(content_type))
    text = _decode(data, sniffed, label)
    declaration = _DECLARATION.match(text)
    body = text[declaration.end() :].lstrip("\r\n") if declaration else text
    return (UTF8_DECLARATION + body).encode("utf-8", "replace")


def _strip_leading_whitespace(content: bytes) -> bytes:
    """Whitespace before ``<?xml`` makes the declaration illegal: drop it (BOM kept)."""
    bom = codecs.BOM_UTF8 if content.startswith(codecs.BOM_UTF8) else b""
    rest = content[len(bom) :]
    stripped = rest.lstrip(_WHITESPACE)
    if len(stripped) == len(rest) or not stripped.startswith(b"<"):
        return content
    return bom + stripped


def _sniff(data: bytes) -> tuple[str | None, bytes]:
    """The encoding a BOM (removed) or the first four bytes reveal, if any."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, data[len(bom) :]
    for marker, name in _MARKERS:
        if data.startswith(marker):
            return name, data
    return None, data


def _declared(data: bytes, sniffed: str | None) -> str | None:
    head = data[:1024].decode(sniffed or "latin-1", "replace")
    match = _DECLARED.match(head)
    return match.group(1).lower() if match else None


def _header_charset(content_type: str | None) -> str | None:
    match = _CHARSET.search(content_type or "")
    return match.group(1).lower() if match else None


def _decode(data: bytes, sniffed: str | None, label: str | None) -> str:
    if sniffed:
        return data.decode(sniffed, "replace")  # a BOM (or the first bytes) is authoritative
    candidates = [label] if label else []
    if label and _SINGLE_BYTE.match(label) and _is_non_ascii_utf8(data):
        candidates = ["utf-8"]  # valid UTF-8 labelled latin-1 & co: it is UTF-8
    for name in [*candidates, *_FALLBACKS]:
        if not _usable(name):
            continue
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            if _utf8(name):
                repaired = _mostly_utf8(data)
                if repaired is not None:
                    return repaired
    raise PermanentError("undecodable document", reason=Reason.PARSE_ERROR)


def _usable(name: str) -> bool:
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return False
    return bool(getattr(info, "_is_text_encoding", True)) and info.name not in _REFUSED


def _utf8(name: str) -> bool:
    return codecs.lookup(name).name == "utf-8"


def _is_non_ascii_utf8(data: bytes) -> bool:
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with replacement characters, if good multi-byte characters outnumber bad
    bytes (else the document is in a legacy encoding and a fallback reads it better)."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", "ignore")) - bad
    return text if good > bad else None
