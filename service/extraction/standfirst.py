"""The lead paragraph (standfirst, teaser, intro) that body extractors often drop.

Found generically: an element whose class/id names a lead (``standfirst``, ``lead``,
``article__lead``, ``intro``, ``teaser``, ``summary``...) or a paragraph whose text is the
page's description (og/JSON-LD), placed after the headline and before the body, with little
link text and outside navigation, lists, figures and footers.
"""

from __future__ import annotations

import itertools
import re

from lxml import etree
from lxml.html import HtmlElement

from service.extraction.text import clean_inline, comparable

MIN_CHARS, MAX_CHARS = 40, 1500
MAX_LINK_SHARE = 0.3
WINDOW = 250  # elements looked at above the body (or below the headline)


def _tuple(words: str) -> tuple[str, ...]:
    return tuple(words.split())


# class/id words that name a lead; checked as prefix or suffix of each (joined) token
_LEAD_WORDS = _tuple(
    "standfirst lead lede intro teaser summary dek deck excerpt abstract subheadline "
    "subtitle sapo entradilla chapo chapeau ingress preamble vorspann description"
)
_NOT_LEAD_PREFIXES = _tuple(
    "leader leading introduc teasers img nav menu list link more tag label logo ad date time footer"
)
_NOT_LEAD_PARTS = _tuple(
    "image photo picture caption video media credit author byline share social related "
    "sidebar comment newsletter promo gallery audio podcast"
)
# words in the class/id of an ancestor that put an element into other stories' teasers
_OTHER_STORIES = frozenset(
    _tuple(
        "related carousel slide slider gallery promo recommend teaserlist list card more "
        "comment comments footer nav menu"
    )
)
MAX_ANCESTORS = 5
_STORY_CONTAINERS = frozenset(_tuple("main article body html"))
_CHROME_ANCESTORS = frozenset(
    _tuple("nav aside footer form li figure figcaption button a blockquote")
)
_TAGS = frozenset(_tuple("p div h2 span section strong"))
_CREDIT = re.compile(
    r"©|\b(?:foto|photo|bild|image|credit|picture)s?\s*:|\([^()]*\b(?:foto|photo|bild|image)\b",
    re.IGNORECASE,
)
_ELLIPSES = ("…", "...")
_TOKEN = re.compile(r"[A-Za-z]+")
_PRECEDING = etree.XPath(f"preceding::*[position() <= {WINDOW}]")
_FOLLOWING = etree.XPath(f"following::*[position() <= {WINDOW}]")
_PARAGRAPH_STARTING = etree.XPath(
    "(//p | //div[not(*)])[starts-with(normalize-space(.), $start)][1]"
)


def find_standfirst(
    tree: HtmlElement, *, first_body_line: str | None, descriptions: list[str]
) -> str | None:
    """The lead paragraph of the story if the page marks one up above the body."""
    window = [element for element in _window(tree, first_body_line) if element.tag in _TAGS]
    for element in window:
        if _names_a_lead(element) and element.find(".//h1") is None:
            text = _usable_text(element)
            if text:
                return text
    exact, prefixes = _description_keys(descriptions)
    if not exact and not prefixes:
        return None
    for element in window:
        text = _usable_text(element)
        if text:
            key = comparable(text)
            if key in exact or any(key.startswith(prefix) for prefix in prefixes):
                return text
    return None


def _description_keys(descriptions: list[str]) -> tuple[set[str], set[str]]:
    """Comparison keys of the descriptions: whole ones, and stems of cut-off ones ("…")."""
    exact: set[str] = set()
    prefixes: set[str] = set()
    for text in descriptions:
        if len(text) < MIN_CHARS:
            continue
        if text.endswith(_ELLIPSES):
            prefixes.add(comparable(text.rstrip("…. ")))
        else:
            exact.add(comparable(text))
    return exact, prefixes


def _window(tree: HtmlElement, first_body_line: str | None) -> list[HtmlElement]:
    """Elements from the headline to the body's first paragraph, in document order (bounded)."""
    headline = next(tree.iter("h1"), None)
    body = _PARAGRAPH_STARTING(tree, start=first_body_line[:40]) if first_body_line else []
    if body:  # the body's first paragraph too: it may be the marked-up lead itself
        window: list[HtmlElement] = [*_PRECEDING(body[0]), body[0]]
        if headline is not None and headline in window:
            window = window[window.index(headline) + 1 :]
        return window
    return _FOLLOWING(headline) if headline is not None else []


def _names_a_lead(element: HtmlElement) -> bool:
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    tokens = [token.lower() for token in _TOKEN.findall(names)]
    tokens += [first + second for first, second in itertools.pairwise(tokens)]
    if any(
        token.startswith(_NOT_LEAD_PREFIXES) or any(part in token for part in _NOT_LEAD_PARTS)
        for token in tokens
    ):
        return False
    return any(token.startswith(_LEAD_WORDS) or token.endswith(_LEAD_WORDS) for token in tokens)


def _in_other_stories(element: HtmlElement) -> bool:
    """Inside navigation, a list, a figure... or a box of teasers for other stories."""
    for depth, ancestor in enumerate(element.iterancestors()):
        if ancestor.tag in _CHROME_ANCESTORS:
            return True
        if depth < MAX_ANCESTORS and ancestor.tag not in _STORY_CONTAINERS:
            names = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}"
            if any(token.lower() in _OTHER_STORIES for token in _TOKEN.findall(names)):
                return True
    return False


def _usable_text(element: HtmlElement) -> str | None:
    if _in_other_stories(element):
        return None
    text = clean_inline(element.text_content())
    if not MIN_CHARS <= len(text) <= MAX_CHARS or _CREDIT.search(text):
        return None
    link_chars = sum(len(clean_inline(link.text_content())) for link in element.iter("a"))
    return text if link_chars <= MAX_LINK_SHARE * len(text) else None
