"""Decode a fetched page and parse it once with lxml, refusing hostile nesting.

Everything downstream (metadata readers, trafilatura) works on the one tree built here. Once
the metadata readers have read it (JSON-LD and other inline scripts included), ``drop_inert``
removes what no later stage reads, so trafilatura's copies and passes of the tree cost less.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree
from lxml.html import HtmlElement, HTMLParser

from service.errors import PermanentError, Reason
from service.fetching.charset import codec_name, detect_encoding

# Bytes of characters XML cannot hold (C0 controls but tab/CR/LF; U+FFFE/U+FFFF in UTF-8):
# trafilatura builds XML from the text, so they go before parsing.
_CONTROL_BYTES = bytes([*range(9), 11, 12, *range(14, 32)])
_NONCHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f]")
# Bounds of the work done on one page (the fetcher caps pages at a few MB already; these
# keep a bigger page from costing minutes: news pages have a few thousand elements).
MAX_MARKUP_CHARS = 8_000_000  # characters parsed; the rest of a bigger page is ignored
MAX_ELEMENTS = 10_000  # elements kept, in document order; later ones are dropped
# Elements that hold no article text, dropped with their content once metadata is read:
# trafilatura deletes each of them itself (``MANUALLY_CLEANED``), after copying the tree.
# Comments and processing instructions never reach the tree (the parser drops them).
INERT_TAGS = ("script", "style", "noscript", "svg", "canvas", "iframe", "object", "embed")
_SNIFF_BYTES = 4096
_BINARY_SHARE = 0.05  # more control characters than this in the first bytes: not text


def decode_html(content: bytes, encoding: str | None) -> str:
    """The page as text, in the encoding the fetcher found (``FetchedPage.encoding``), or,
    when none is known, the one :func:`service.fetching.charset.detect_encoding` finds: one
    decision for the page, never a second guess here. Bytes invalid in it are replaced.

    Raises ``PermanentError(PARSE_ERROR)`` for content that is not text at all.
    """
    codec = codec_name(encoding) or detect_encoding(content, None, kind="page")
    head = content[:_SNIFF_BYTES]
    wide = codec.startswith(("utf-16", "utf-32"))  # UTF-16/32: NUL bytes are normal
    if not wide and head and len(_BINARY.findall(head)) > _BINARY_SHARE * len(head):
        raise PermanentError("page content is binary, not HTML", reason=Reason.PARSE_ERROR)
    if codec == "utf-8":
        codec = "utf-8-sig"  # a byte-order mark is no character of the page
    return content.decode(codec, errors="replace")


def parse_html(markup: str, *, max_depth: int) -> HtmlElement | None:
    """Parse ``markup`` with lxml; ``None`` when there is no document at all.

    Work is bounded: only the first ``MAX_MARKUP_CHARS`` characters are parsed and only the
    first ``MAX_ELEMENTS`` elements kept.

    Raises ``PermanentError(HOSTILE_CONTENT)`` when elements nest deeper than ``max_depth``
    (libxml2 itself stops at 256 levels and silently drops the rest: that is refused too),
    and ``PermanentError(PARSE_ERROR)`` when lxml cannot build a tree.
    """
    data = markup[:MAX_MARKUP_CHARS].encode("utf-8", "surrogatepass")
    data = data.translate(None, _CONTROL_BYTES)
    for noncharacter in _NONCHARACTERS:
        if noncharacter in data:
            data = data.replace(noncharacter, b"")
    if not data.strip():
        return None
    parser = HTMLParser(
        collect_ids=False,
        default_doctype=False,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise PermanentError(
            f"lxml could not parse the page: {exc}", reason=Reason.PARSE_ERROR
        ) from exc
    if _hit_parser_depth_limit(parser) or (root is not None and _deeper_than(root, max_depth)):
        raise PermanentError(
            f"elements nested deeper than {max_depth} levels", reason=Reason.HOSTILE_CONTENT
        )
    if root is None or not isinstance(root, HtmlElement):
        return None
    _truncate(root, MAX_ELEMENTS)
    return root


def _hit_parser_depth_limit(parser: HTMLParser) -> bool:
    return any("excessive depth" in entry.message.lower() for entry in parser.error_log)


@lru_cache(maxsize=8)
def _depth_probe(depth: int) -> etree.XPath:
    # /*/*/... with depth+1 steps: each step is the node set one level down, so the whole
    # probe visits every element once, in C.
    return etree.XPath("boolean(/*" + "/*" * depth + ")")


def _deeper_than(root: HtmlElement, max_depth: int) -> bool:
    return bool(_depth_probe(max_depth)(root))


_COUNT_ELEMENTS = etree.XPath("count(//*)")
_NTH_ELEMENT = etree.XPath("(//*)[$n]")


def _truncate(root: HtmlElement, max_elements: int) -> None:
    """Drop every element after the first ``max_elements`` (document order), in place."""
    if int(_COUNT_ELEMENTS(root)) <= max_elements:
        return
    cut: HtmlElement = _NTH_ELEMENT(root, n=max_elements)[0]
    for child in list(cut):
        cut.remove(child)
    node = cut
    while (parent := node.getparent()) is not None:
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        node = parent


def drop_inert(tree: HtmlElement) -> None:
    """Remove ``INERT_TAGS`` elements and their content from ``tree``, in place (tails kept).

    Only for after the metadata readers: JSON-LD and inline JSON state live in scripts.
    """
    etree.strip_elements(tree, *INERT_TAGS, with_tail=False)
