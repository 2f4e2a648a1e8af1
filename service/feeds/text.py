"""Plain text out of feed fields: control characters out, HTML stripped, entities decoded."""

from __future__ import annotations

import html
import re

import lxml.html
from lxml import etree

from service.characters import INVISIBLE, NOT_XML

_TAG = re.compile(r"<[^>]*>")
_SKIPPED = ("script", "style", "template", "noscript", "svg", "math")
# fmt: off
_BLOCKS = frozenset({
    "p", "br", "div", "li", "ul", "ol", "tr", "td", "th", "table", "blockquote", "pre", "h1",
    "h2", "h3", "h4", "h5", "h6", "section", "article", "figure", "figcaption", "hr", "dd", "dt",
})
# fmt: on


def clean_text(value: str | None, *, limit: int | None = None) -> str | None:
    """Control characters removed, whitespace collapsed to single spaces, ``None`` if empty.

    ``limit`` truncates at a word boundary and appends an ellipsis.
    """
    if not value:
        return None
    text = " ".join(INVISIBLE.sub("", value).split())
    if limit is not None and len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
        text = cut.rstrip(" ,;:-") + "…"
    return text or None


def plain_to_text(value: str | None, *, limit: int | None = None) -> str | None:
    """A plain-text field: entities left by double escaping decoded, then cleaned."""
    if not value:
        return None
    return clean_text(html.unescape(value) if "&" in value else value, limit=limit)


def html_to_text(value: str | None, *, limit: int | None = None) -> str | None:
    """An HTML fragment as plain text: tags stripped (blocks become spaces), entities decoded."""
    if not value:
        return None
    if "<" not in value:
        return plain_to_text(value, limit=limit)
    return clean_text(_markup_text(xml_safe(value)), limit=limit)


def xml_safe(value: str) -> str:
    """``value`` without the characters libxml2 refuses (NUL and other C0 controls …)."""
    return NOT_XML.sub("", value)


def _markup_text(value: str) -> str:
    try:
        root = lxml.html.fragment_fromstring(value, create_parent="div")
    except (etree.LxmlError, ValueError):
        return html.unescape(_TAG.sub(" ", value))
    for element in list(root.iter(*_SKIPPED)):
        element.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.tail = " " + (element.tail or "")
            element.text = " " + (element.text or "")
    return str(root.text_content())


def text_to_html(value: str) -> str:
    """Plain text as HTML paragraphs (blank lines separate paragraphs)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", value) if p.strip()]
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
