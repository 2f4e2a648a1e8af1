"""Which character encoding a fetched body is in (pure).

Order: byte-order mark → ``charset`` of the Content-Type header → ``<meta charset>`` /
``<meta http-equiv>`` in the first 4 KB (pages) or the XML declaration (feeds, and XHTML
pages) → detection on the first 32 KB (valid UTF-8 first, then charset-normalizer) →
UTF-8. Declared names are checked with ``codecs.lookup``: a bogus name falls through to the
next source. Following WHATWG, ``iso-8859-1``/``us-ascii`` mean windows-1252, and a page
that declares a legacy (non-Unicode) charset but is valid, non-ASCII UTF-8 is read as UTF-8
(a frequent server misconfiguration; legacy text is almost never valid UTF-8). The result
is a Python codec name, the one every later stage decodes the page with
(``FetchedPage.encoding``).
"""

from __future__ import annotations

import codecs
import re
from email.message import Message
from typing import Literal

from charset_normalizer import from_bytes

# Where a body may declare its charset: a page in <meta> or an XML declaration, the rest
# (feeds, robots.txt) in an XML declaration only. Not the fetch kind (requests.Kind).
Markup = Literal["page", "feed"]
META_WINDOW = 4096
DETECT_WINDOW = 32_768
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([a-z0-9_.:\-]+)", re.I)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([a-z0-9_.\-]+)[\"']", re.I)
# WHATWG Encoding: these labels are decoded with a superset codec.
_WHATWG = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "tis-620": "cp874",
}


def codec_name(label: str | None) -> str | None:
    """The Python codec name of a charset label, ``None`` when unknown or not a text codec."""
    if not label:
        return None
    try:
        info = codecs.lookup(label.strip().strip("\"'"))
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):  # e.g. "base64", "rot13"
        return None
    return _WHATWG.get(info.name, info.name)


def header_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header value."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset if isinstance(charset, str) else None


def _bom(content: bytes) -> str | None:
    for bom, name in _BOMS:
        if content.startswith(bom):
            return name
    return None


def declared_in_body(content: bytes, kind: Markup) -> str | None:
    """The charset declared by the document itself (XML declaration, ``<meta>``)."""
    head = content[:META_WINDOW]
    found = _XML_DECL.search(head)
    if found is None and kind == "page":
        found = _META.search(head)
    if found is None:
        return None
    name = codec_name(found.group(1).decode("ascii"))
    # A declaration readable as ASCII cannot be right about UTF-16/32 (WHATWG: use UTF-8).
    return "utf-8" if name and name.startswith(("utf-16", "utf-32")) else name


def _utf8_status(content: bytes) -> Literal["ascii", "utf-8", "invalid"]:
    """Whether the first 32 KB are ASCII, UTF-8 (a character cut at the end is fine), or not."""
    window = content[:DETECT_WINDOW]
    if window.isascii():
        return "ascii"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(window, final=len(content) == len(window))
    except UnicodeDecodeError:
        return "invalid"
    return "utf-8"


def detect(content: bytes) -> str:
    """Best guess from the bytes alone, bounded to the first 32 KB."""
    if _utf8_status(content) != "invalid":
        return "utf-8"
    best = from_bytes(content[:DETECT_WINDOW]).best()
    return codec_name(best.encoding if best is not None else None) or "utf-8"


def detect_encoding(content: bytes, content_type: str | None, *, kind: Markup = "page") -> str:
    """The codec name to decode ``content`` with (see the module docstring)."""
    bom = _bom(content)
    if bom:
        return bom
    declared = codec_name(header_charset(content_type)) or declared_in_body(content, kind)
    if declared and not declared.startswith("utf") and _utf8_status(content) == "utf-8":
        return "utf-8"
    return declared or detect(content)
