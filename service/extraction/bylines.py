"""Visible bylines that no metadata declares: links to author pages, a name set in bold.

The readers here only run when neither the metadata nor trafilatura's byline search
(``class="author"``, ``rel="author"``, ``itemprop``...) named anyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from service.extraction.authors import SYSTEM_ACCOUNTS
from service.extraction.text import clean_inline, comparable

MAX_AUTHOR_LINKS = 3
MAX_BYLINE_CHARS = 80
MAX_LEAD_LINES = 3  # a bold byline stands before the first paragraph, or last in the body
MIN_PARAGRAPH_CHARS = 60
# Path segments of author pages: "/autoren/name/max-muster", "/author/jane-doe/".
_AUTHOR_PATH = frozenset(
    {
        "author",
        "authors",
        "autor",
        "autoren",
        "autorin",
        "auteur",
        "auteurs",
        "autore",
        "autori",
        "autores",
        "forfatter",
        "journalist",
        "journalisten",
        "journalists",
        "redakteur",
        "redakteure",
    }
)
_PARTICLES = frozenset(
    {"von", "van", "der", "den", "de", "du", "la", "le", "da", "di", "del", "dos"}
)
# A name in a byline: capitalised words (initials and particles allowed), "/" or "and" between.
_NAME_WORD = re.compile(r"(?:[^\W\d_][\w'\u2019.-]*|\.)")


@dataclass(slots=True)
class AuthorLinks:
    """Links to author pages: the byline's names, and the display names of placeholder
    accounts (``/author/admin/`` shown as "Site D") that are nobody's name."""

    names: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)


def read_author_links(tree: HtmlElement) -> AuthorLinks:
    """Texts of the first link to an author page (``/author/jane-doe``) and of the links
    to author pages next to it (same parent or grandparent: one byline, not a teaser list)."""
    found = AuthorLinks()
    block: set[HtmlElement] = set()
    for link in tree.iter("a"):
        href = link.get("href") or ""
        segments = _author_page(href) if "/" in href else None
        if segments is None:
            continue
        text = clean_inline(link.text_content())
        if segments[-1] in SYSTEM_ACCOUNTS:
            found.placeholders.append(text)
            continue
        ancestors = _ancestors(link)
        if block and not block.intersection(ancestors):
            break
        if _is_link_name(text) and text not in found.names:
            found.names.append(text)
            block = block or set(ancestors)
            if len(found.names) >= MAX_AUTHOR_LINKS:
                break
    return found


def _is_link_name(text: str) -> bool:
    """Link text that can be a name: short, words capitalised but for name particles
    ("Ursula von der Leyen"), unlike "Guide to authors" or "read more articles"."""
    words = text.split()
    return 0 < len(text) <= MAX_BYLINE_CHARS and all(
        not word[0].islower() or word in _PARTICLES for word in words
    )


def _author_page(href: str) -> list[str] | None:
    """The path segments of a link to an author page, else ``None``."""
    segments = [part.lower() for part in urlsplit(href).path.split("/") if part]
    if len(segments) >= 2 and not _AUTHOR_PATH.isdisjoint(segments[:-1]):
        return segments
    return None


def _ancestors(element: HtmlElement) -> list[HtmlElement]:
    parent = element.getparent()
    grandparent = parent.getparent() if parent is not None else None
    return [node for node in (parent, grandparent) if node is not None]


def read_bold_byline(tree: HtmlElement, body_lines: list[str]) -> tuple[str, str] | None:
    """A paragraph that is one bold name ("<p><strong>Jane Doe</strong></p>") before the
    first paragraph of the article body, or its last line: ``(byline, body line)``."""
    lead: list[str] = []
    for line in body_lines[:MAX_LEAD_LINES]:
        if len(line) >= MIN_PARAGRAPH_CHARS:
            break
        lead.append(line)
    edges = lead + body_lines[-1:]
    keys = {comparable(line): line for line in edges if len(line) <= MAX_BYLINE_CHARS}
    if not keys:
        return None
    for paragraph in tree.iter("p"):
        children = [child for child in paragraph if isinstance(child.tag, str)]
        if len(children) != 1 or children[0].tag not in ("strong", "b"):
            continue
        text = clean_inline(paragraph.text_content())
        if clean_inline(children[0].text_content()) != text or not _is_name_line(text):
            continue
        body_line = keys.get(comparable(text))
        if body_line is not None:
            return text, body_line
    return None


def _is_name_line(text: str) -> bool:
    """Two to eight capitalised words, no sentence punctuation: "Jane Doe/John Roe"."""
    if not text or len(text) > MAX_BYLINE_CHARS or text[-1] in ":?!;,":
        return False
    words = [word for word in re.split(r"[\s/,&]+", text) if word]
    names = [word for word in words if word not in ("and", "und", "et", "y", "e")]
    return (
        2 <= len(names) <= 8
        and all(_NAME_WORD.fullmatch(word) for word in names)
        and all(word[0].isupper() for word in names)
    )


# A byline label: "By Jane Doe", "Von Max Muster und Erika Muster", "Author: Jane Doe".
_LABEL = re.compile(
    r"^(?:by|von|par|por|door|av|af|(?:author|autor|autorin|auteur|text|texte)\s*:)\s+(?=\S)",
    re.IGNORECASE,
)


def read_labelled_byline(body_lines: list[str]) -> tuple[str, str] | None:
    """A body line that is a byline label and names ("By Jane Doe") among the lines before
    the first paragraph, or the last line: ``(names, body line)``."""
    lead: list[str] = []
    for line in body_lines[:MAX_LEAD_LINES]:
        if len(line) >= MIN_PARAGRAPH_CHARS:
            break
        lead.append(line)
    for line in [*lead, *body_lines[-1:]]:
        match = _LABEL.match(line)
        if match is None or len(line) > MAX_BYLINE_CHARS:
            continue
        names = line[match.end() :].strip()
        if _is_name_line(names) or _is_single_name(names):
            return names, line
    return None


def _is_single_name(text: str) -> bool:
    words = text.split()
    return len(words) == 1 and _NAME_WORD.fullmatch(words[0]) is not None and words[0][0].isupper()
