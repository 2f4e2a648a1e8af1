"""The lead image's caption and credit: from its JSON-LD ``ImageObject``, else from the
``<figure>`` that shows the same image file in the page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from service.extraction.text import clean_inline

MAX_FIGURES = 50
MAX_CAPTION_CHARS = 600
_CREDIT_CLASS = re.compile(r"credit|copyright|source|photographer|quelle", re.IGNORECASE)
_PLAYERS = ("audio", "video", "iframe")  # a media box: its caption describes the clip
_IMAGE_ATTRIBUTES = ("src", "data-src", "data-original", "srcset", "data-srcset")


def _stem(url: str) -> str:
    """The file name of an image URL without extension and size suffixes ("-1024x576")."""
    name = urlsplit(url.strip().split(" ", 1)[0]).path.rsplit("/", 1)[-1]
    name = name.rsplit(".", 1)[0].lower()
    return re.sub(r"[-_]\d{2,5}x\d{2,5}$", "", name)


def _shows(figure: HtmlElement, stem: str) -> bool:
    for element in figure.iter("img", "source"):
        for attribute in _IMAGE_ATTRIBUTES:
            value = element.get(attribute) or ""
            if any(_stem(part) == stem for part in value.split(",")[:10] if part.strip()):
                return True
    return False


def _has_player(figure: HtmlElement) -> bool:
    return any(True for _ in figure.iter(*_PLAYERS))


def figure_caption(tree: HtmlElement, image: str | None) -> tuple[str | None, str | None]:
    """``(caption, credit)`` of the first ``<figure>`` showing ``image``'s file."""
    stem = _stem(image or "")
    if len(stem) < 4:
        return None, None
    for count, figure in enumerate(tree.iter("figure")):
        if count >= MAX_FIGURES:
            break
        caption = figure.find(".//figcaption")
        if caption is None or not _shows(figure, stem) or _has_player(figure):
            continue
        credit = None
        for element in caption.iter():
            if element is not caption and _CREDIT_CLASS.search(element.get("class") or ""):
                credit = clean_inline(element.text_content()) or None
                break
        text = clean_inline(caption.text_content())
        if credit:
            text = clean_inline(text.replace(credit, " ")).strip(" |/·\u2013-")
        return (text[:MAX_CAPTION_CHARS] or None), credit
    return None, None
