"""Adapters to trafilatura and htmldate: main text from the parsed tree, bylines, a date.

trafilatura and htmldate copy a tree handed to them before pruning it, and the byline
search (service.extraction.byline_search) only reads it, so the caller's tree stays intact.
"""

from __future__ import annotations

from datetime import datetime

import trafilatura
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement

from service.extraction.byline_search import find_author
from service.extraction.container import content_document
from service.extraction.text import clean_inline, has_words

TRAFILATURA_VERSION: str = trafilatura.__version__


# trafilatura's fallback comparison (its readability port, then justext) is about a third of
# its time and, on the corpus, changes the body of 3 pages in 121 (for the worse on 2).
# It runs only when the cheap pass looks poor: few words, or text in one or two lines.
# Words, not characters: 80 words is about 500 characters of English, and a script written
# without spaces (Japanese, Chinese, Thai) counts a word a character (``has_words``), so a
# full Japanese story is not "poor" for having fewer than 500 characters.
POOR_WORDS = 80
POOR_LINES = 3


def extract_text(tree: HtmlElement, url: str) -> str:
    """The main text trafilatura finds (comments excluded), one paragraph a line; may be ''.

    First trafilatura's cheap pass (``fast``) on the page's content container when it has
    one (:func:`service.extraction.container.content_document`); its full cascade, with
    the comparison against its fallback extractors, on the whole page, only when that text
    ``looks_poor``.
    """
    with content_document(tree) as document:
        text = _trafilatura_text(document, url, fast=True)
    if looks_poor(text):
        text = _trafilatura_text(tree, url, fast=False) or text
    return text


def looks_poor(text: str) -> bool:
    """Too little text for an article (fewer than ``POOR_WORDS`` words), or no paragraphs
    (fewer than ``POOR_LINES`` lines)."""
    return not has_words(text, POOR_WORDS) or text.count("\n") + 1 < POOR_LINES


def _trafilatura_text(tree: HtmlElement, url: str, *, fast: bool) -> str:
    try:
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            include_comments=False,
            include_tables=True,
            with_metadata=False,
            fast=fast,
        )
    except (ValueError, TypeError, RecursionError, AttributeError):
        return ""
    text = getattr(document, "text", None)
    return text if isinstance(text, str) else ""


def read_bylines(tree: HtmlElement) -> list[str]:
    """Author bylines trafilatura finds in the markup (``class="author"``, ``rel=author``...)."""
    try:
        author = find_author(tree)  # trafilatura's extract_author, computed faster
    except (ValueError, TypeError, RecursionError, AttributeError):
        return []
    if not author:
        return []
    return [name.strip() for name in clean_inline(author).split(";") if name.strip()]


def search_date(tree: HtmlElement, url: str, *, not_after: datetime) -> str | None:
    """htmldate's extensive search for the publication day (the costly last resort).

    ``not_after`` bounds the search (the fetch time: nothing is published after it).
    """
    try:
        found = find_date(
            tree,
            extensive_search=True,
            original_date=True,
            url=url,
            max_date=not_after.strftime("%Y-%m-%d"),
        )
    except (ValueError, TypeError, RecursionError, AttributeError):
        return None
    return found if isinstance(found, str) else None


_BLOCKS = (
    "p",
    "div",
    "br",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "tr",
    "section",
    "article",
    "pre",
    "dd",
    "dt",
    "figcaption",
    "table",
    "ul",
    "ol",
)
_NOT_TEXT = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "svg",
    "form",
    "nav",
    "aside",
    "footer",
    "button",
)


def fragment_text(tree: HtmlElement) -> str:
    """The text of a small HTML document (a feed's ``content_html``), one block a line."""
    etree.strip_elements(tree, *_NOT_TEXT, with_tail=False)
    for element in tree.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
        element.text = "\n" + (element.text or "")
    return str(tree.text_content())
