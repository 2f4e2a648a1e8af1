"""Entry content HTML made safe to pass on: no scripts, frames, forms, handlers or odd URLs.

feedparser sanitises already; this runs on every format (JSON Feed too) as the one policy:
lxml_html_clean removes scripts, ``on*``/``style`` attributes, iframes, objects, forms and
unknown tags; then every URL attribute left is resolved against the entry's base and dropped
unless it is http(s) (``javascript:``, ``data:``, ``file:``, ``mailto:`` …) and its host passes
the address policy given (literal private, loopback, link-local … addresses and
``localhost`` refused by the feed parser's default).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import lxml.html
from lxml import etree
from lxml_html_clean import Cleaner

from service.feeds.text import xml_safe
from service.urls import MAX_URL_LENGTH, resolve_url

# fmt: off
_CLEANER = Cleaner(
    scripts=True, javascript=True, comments=True, style=True, inline_style=True, links=True,
    meta=True, page_structure=True, processing_instructions=True, embedded=True, frames=True,
    forms=True, annoying_tags=True, remove_unknown_tags=True, safe_attrs_only=True,
    kill_tags=("svg", "math", "template"),
)
# fmt: on
_PLAIN_ABSOLUTE = re.compile(r"https?://[A-Za-z0-9][^\x00-\x20\x7f]*\Z", re.ASCII)
# fmt: off
_URL_ATTRS = frozenset({
    "href", "src", "action", "formaction", "cite", "longdesc", "usemap", "background", "lowsrc",
    "dynsrc", "data", "codebase", "archive", "classid", "profile", "poster", "xlink:href",
    "srcset",
})
# fmt: on


def _any_link(url: str) -> bool:
    return True


def sanitize_html(
    value: str | None, *, base: str | None, permits: Callable[[str], bool] = _any_link
) -> str | None:
    """``value`` cleaned, URLs absolute http(s) or gone, and gone too unless ``permits``
    accepts them (an address policy: no private or loopback hosts); ``None`` when nothing is
    left."""
    if not value or not value.strip():
        return None
    try:
        root = lxml.html.fragment_fromstring(xml_safe(value), create_parent="div")
        _CLEANER(root)
    except (etree.LxmlError, ValueError):
        return None
    for element in root.iter():
        _filter_urls(element, base, permits)
    for image in list(root.iter("img")):
        if not image.get("src"):
            image.drop_tree()  # its src was unsafe; the tail text stays
    out = html.escape(root.text or "", quote=False) + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root
    )
    out = out.strip()
    return out or None


def _filter_urls(element: etree._Element, base: str | None, permits: Callable[[str], bool]) -> None:
    attrib = element.attrib
    for name in [name for name in attrib if name in _URL_ATTRS]:
        raw = attrib[name]
        url = _absolute(base, raw, permits) if name != "srcset" else _srcset(raw, base, permits)
        if url:
            attrib[name] = url
        else:
            del attrib[name]


def _absolute(base: str | None, value: str, permits: Callable[[str], bool]) -> str | None:
    """``resolve_url``, with a fast path for the common already-absolute URL."""
    if len(value) <= MAX_URL_LENGTH and _PLAIN_ABSOLUTE.match(value):
        url: str | None = value
    else:
        url = resolve_url(base, value)
    return url if url is not None and permits(url) else None


def _srcset(value: str, base: str | None, permits: Callable[[str], bool]) -> str | None:
    kept = []
    for candidate in value.split(","):
        parts = candidate.split()
        url = _absolute(base, parts[0], permits) if parts else None
        if url:
            kept.append(" ".join([url, *parts[1:]]))
    return ", ".join(kept) or None
