"""Text cleaning: inline strings (titles, names) and bodies (paragraphs, blank-line separated)."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from itertools import islice

from service.characters import INVISIBLE

MAX_INLINE_CHARS = 5000  # metadata values longer than this are cut before cleaning
_SPACES = re.compile(r"[^\S\n]+")
_TAGS = re.compile(r"<[^<>]{0,2000}>")
_WORD = re.compile(r"\w+")
_WIDE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# a CJK character, or a run of other non-space characters holding a letter or digit
_WORDISH = re.compile(f"[{_WIDE}]|(?<![^\\s{_WIDE}])[^\\w\\s{_WIDE}]*+[^\\W{_WIDE}][^\\s{_WIDE}]*+")


def clean_inline(value: object) -> str:
    """One line of text from markup-ish metadata: entities decoded, tags and controls gone.

    Whitespace (newlines included) collapses to single spaces; Unicode NFC.
    """
    if not isinstance(value, str):
        return ""
    text = value[:MAX_INLINE_CHARS]
    if "<" in text and ">" in text:
        text = _TAGS.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = INVISIBLE.sub("", text)
    return unicodedata.normalize("NFC", " ".join(text.split()))


def clean_lines(text: str) -> list[str]:
    """The non-empty lines of ``text``, each cleaned (controls removed, spaces collapsed, NFC)."""
    text = unicodedata.normalize("NFC", INVISIBLE.sub("", text.replace("\r\n", "\n")))
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n"))
    return [line for line in lines if line]


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Paragraphs separated by exactly one blank line; consecutive duplicates dropped."""
    out: list[str] = []
    for paragraph in paragraphs:
        if paragraph and (not out or out[-1] != paragraph):
            out.append(paragraph)
    return "\n\n".join(out)


def comparable(text: str) -> str:
    """A loose comparison key: NFKC, case-folded, words only, single spaces."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def word_count(text: str) -> int:
    """Words in ``text``; in scripts written without spaces, one word per character."""
    return len(_WORDISH.findall(text))


def has_words(text: str, count: int) -> bool:
    """Whether ``text`` has at least ``count`` words (as :func:`word_count` counts them);
    reads only as far as the ``count``-th word."""
    return sum(1 for _ in islice(_WORDISH.finditer(text), count)) >= count
