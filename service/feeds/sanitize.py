"""Entry content HTML made safe to pass on: an allowlist of tags and attributes, http(s) URLs.

feedparser's own sanitiser is off (``sanitize_html=False``); this runs on every format (JSON
Feed too) as the one policy. ammonia (through ``nh3``: an html5ever parser, the way a browser
reads the markup) keeps only the tags and attributes listed below: scripts, styles, SVG,
MathML, templates, frames, objects, forms and their controls go with their content; comments,
``on*`` handlers, ``style``, ``class`` and ``id`` go; any other tag goes but its text stays.
Then every URL attribute left is resolved against the entry's base and dropped unless it is
http(s) (``javascript:``, ``data:``, ``file:``, ``mailto:`` …) and its host passes the
address policy given (literal private, loopback, link-local … addresses and ``localhost``
refused by the feed parser's default); an ``<img>`` whose source went goes too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import nh3

from service.feeds.text import xml_safe
from service.urls import MAX_URL_LENGTH, resolve_url

# fmt: off
# ammonia's own default tags (a conservative, well-reviewed list) and the media elements
# feeds carry.
TAGS = frozenset(nh3.ALLOWED_TAGS | {
    "section", "picture", "source", "video", "audio", "track",
})
# Removed with everything inside them (their content is code, or controls, not text).
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "svg", "math", "template", "noscript", "iframe", "frame", "frameset",
    "object", "embed", "applet", "form", "button", "input", "select", "textarea", "head",
    "title", "canvas", "dialog",
})
ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"lang", "title", "dir"},
    "a": {"href", "hreflang"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height", "align"},
    "source": {"src", "srcset", "sizes", "type", "media"},
    "video": {"src", "poster", "controls", "width", "height"},
    "audio": {"src", "controls"},
    "track": {"src", "kind", "srclang", "label"},
    "time": {"datetime"},
}
URL_ATTRIBUTES = frozenset({"href", "src", "cite", "poster", "longdesc"})
# fmt: on
_PLAIN_ABSOLUTE = re.compile(r"https?://[A-Za-z0-9][^\x00-\x20\x7f]*\Z", re.ASCII)
# ammonia's serialiser escapes "<", ">" and '"' inside attribute values, so an <img …> tag of
# its output ends at its first ">", and ` src="` inside it can only be the attribute.
_IMG_WITHOUT_SRC = re.compile(r'<img(?![^>]*\ssrc=")[^>]*>')


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

    def url_filter(tag: str, name: str, raw: str) -> str | None:
        if name in URL_ATTRIBUTES:
            return _absolute(base, raw, permits)
        if name == "srcset":
            return _srcset(raw, base, permits)
        return raw

    out = nh3.clean(
        xml_safe(value),
        tags=set(TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=ATTRIBUTES,
        attribute_filter=url_filter,
        strip_comments=True,
        link_rel=None,
        url_schemes={"http", "https"},
    )
    if "<img" in out:
        out = _IMG_WITHOUT_SRC.sub("", out)  # its src was unsafe; the text around it stays
    out = out.strip()
    return out or None


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
