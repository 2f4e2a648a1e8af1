"""trafilatura's byline search (``trafilatura.metadata.extract_author``) without its XPaths.

Its five XPaths test every element's attributes, partly through EXSLT regular expressions
that lxml evaluates by calling back into Python; on a news page that cost 25-30 ms, a
tenth of a worker's time on the pages that reach the search (docs/performance.md). Here
the same predicates are tested in one walk of the page, in document order like XPath, with
the same regular expressions compiled once and each element's attributes read once. The result is
the same string: tests/unit/test_byline_search.py compares both on every corpus page and
on a page built to hit each predicate, and pins the XPaths' text, so a trafilatura upgrade
that changes them fails there until these predicates are re-derived.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from lxml.html import HtmlElement
from trafilatura.json_metadata import normalize_authors
from trafilatura.utils import trim

Match = Callable[[HtmlElement, Mapping[str, str]], bool]

# AUTHOR_DISCARD_XPATHS[0]: comment sections, sidebars, quotes, print and share widgets.
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_ID = re.compile("^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    "^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|"
    "article-(?:share|support)|print|category|meta-date|meta-reviewer"
)
# AUTHOR_XPATHS[0], [1], [2]: specific, almost generic, last resort.
_SPECIFIC_TAGS = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_SPECIFIC_CLASS = re.compile("author-?name|AuthorName|authorName")
_GENERIC_TAGS = frozenset({"a", "div", "h3", "h4", "p", "span"})
_GENERIC_ID = re.compile("author|zuozhe|bianji|xiaobian")
_GENERIC_CLASS = re.compile(
    "author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
)
_LAST_ID = re.compile("[Aa]uthor")
_LAST_CLASS = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")
LEN_LIMIT = 120  # extract_author's: a longer text is no byline


def _attr(element: HtmlElement, name: str) -> str:
    value = element.get(name)
    return value if value is not None else ""


def _discarded(element: HtmlElement) -> bool:
    if element.tag not in _DISCARD_TAGS:
        return False
    ident, cls = _attr(element, "id"), _attr(element, "class")
    return (
        ident == "comments"
        or cls in ("comments", "title", "date")
        or _DISCARD_ID.search(ident) is not None
        or _DISCARD_CLASS.search(cls) is not None
        or "Figure" in _attr(element, "data-component")
    )


def _specific(element: HtmlElement, attributes: Mapping[str, str]) -> bool:
    if element.tag == "author":  # ``|//author``
        return True
    if element.tag not in _SPECIFIC_TAGS:
        return False
    return (
        attributes.get("rel") == "author"
        or attributes.get("id") == "author"
        or attributes.get("class") == "author"
        or attributes.get("itemprop") == "author name"
        # ``rel='me'`` without ``@``: a child element <rel> whose text is "me"
        or any(child.tag == "rel" and "".join(_pieces(child)) == "me" for child in element)
        or attributes.get("data-testid") in ("AuthorCard", "AuthorURL")
        or _SPECIFIC_CLASS.search(attributes.get("class", "")) is not None
    )


def _generic(element: HtmlElement, attributes: Mapping[str, str]) -> bool:
    if element.tag not in _GENERIC_TAGS:
        return False
    return (
        attributes.get("class") in ("byline", "username", "byl", "BBL")
        or "author" in attributes.get("itemprop", "")
        or _GENERIC_ID.search(attributes.get("id", "")) is not None
        or _GENERIC_CLASS.search(attributes.get("class", "")) is not None
    )


def _last_resort(_element: HtmlElement, attributes: Mapping[str, str]) -> bool:
    return (
        "Byline" in attributes.get("data-component", "")
        or "author" in attributes.get("itemprop", "")
        or _LAST_ID.search(attributes.get("id", "")) is not None
        or _LAST_CLASS.search(attributes.get("class", "")) is not None
    )


SEARCH: tuple[Match, ...] = (_specific, _generic, _last_resort)


def _deleted(element: HtmlElement, *, below_root: bool) -> bool:
    """Removed before the search: comment or sidebar sections (``.//*``, so not the root),
    then every <time> and <figure> (``//time|//figure``)."""
    return element.tag in ("time", "figure") or (below_root and _discarded(element))


# Any class or id one of the three expressions could select: tested first, as most are not.
_ANY_CLASS = re.compile(
    f"{_SPECIFIC_CLASS.pattern}|{_GENERIC_CLASS.pattern}|{_LAST_CLASS.pattern}|"
    "^(?:byline|username|byl|BBL)$"
)
_ANY_ID = re.compile(f"{_GENERIC_ID.pattern}|{_LAST_ID.pattern}")
# Attributes no predicate reads but for class and id (an element with others is tested).
_READ = frozenset({"class", "id", "itemprop", "rel", "data-testid", "data-component"})


def _visit(
    node: HtmlElement, found: tuple[list[HtmlElement], ...], rel_parents: set[HtmlElement]
) -> None:
    """Collect, in document order, the kept elements each expression of ``SEARCH`` selects;
    the same as calling each predicate on every kept element, with the attributes read once
    and the common case (no class or id of interest) decided by one regular expression."""
    attributes = dict(node.items())
    cls, ident = attributes.get("class", ""), attributes.get("id", "")
    if (
        (cls and _ANY_CLASS.search(cls))
        or (ident and _ANY_ID.search(ident))
        or not _READ.isdisjoint(attributes.keys() - {"class", "id"})
        or node.tag == "author"
        or node in rel_parents
    ):
        for index, match in enumerate(SEARCH):
            if match(node, attributes):
                found[index].append(node)
    for child in node:
        if isinstance(child, HtmlElement) and not _deleted(child, below_root=True):
            _visit(child, found, rel_parents)


def _pieces(node: HtmlElement) -> list[str]:
    """``node.itertext()`` as it reads in the pruned copy trafilatura searches: a deleted
    child's text is gone and its tail joins the text before it, unseparated (trafilatura's
    ``delete_element`` appends it to the previous sibling's tail or the parent's text)."""
    out: list[str] = []
    pending = node.text  # node.text, then each kept child's tail, once no more joins it
    for child in node:
        if isinstance(child, HtmlElement) and _deleted(child, below_root=True):
            if child.tail:
                pending = (pending or "") + child.tail
            continue
        if pending is not None:
            out.append(pending)
        if isinstance(child, HtmlElement):
            out.extend(_pieces(child))
        pending = child.tail
    if pending is not None:
        out.append(pending)
    return out


def _rel_parents(tree: HtmlElement) -> set[HtmlElement]:
    """Parents of <rel> elements (``rel='me'`` in trafilatura's XPath is a child element)."""
    return {parent for rel in tree.iter("rel") if (parent := rel.getparent()) is not None}


def find_author(tree: HtmlElement) -> str | None:
    """What ``trafilatura.metadata.extract_author(tree)`` returns, without copying ``tree``.

    trafilatura prunes a copy (:func:`_deleted`), then takes the first element that the
    first expression yielding a usable text (2 to 119 characters) selects, in document
    order. Here one walk of the page skips the pruned subtrees and collects the elements of
    all three expressions; their text is read as the pruned copy would give it."""
    found: tuple[list[HtmlElement], ...] = ([], [], [])
    _visit(tree, found, _rel_parents(tree))
    for elements in found:
        for element in elements:
            content = trim(" ".join(_pieces(element)))
            if content and 2 < len(content) < LEN_LIMIT:
                return normalize_authors(None, content)
    return None
