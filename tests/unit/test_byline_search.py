"""trafilatura's byline search without its XPaths: the same result as extract_author."""

from __future__ import annotations

import gzip
import hashlib
from copy import deepcopy
from pathlib import Path

import pytest
from lxml.html import HtmlElement
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.metadata import extract_author
from trafilatura.utils import trim
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS

from service.extraction.byline_search import _pieces, _rel_parents, _visit, find_author
from service.extraction.html import decode_html, parse_html
from service.extraction.trafilatura_adapter import read_bylines
from tests.conftest import corpus_dir

PAGES = sorted(corpus_dir("pages").glob("*.html.gz"))
# The text of the XPaths the predicates were derived from (trafilatura 2.3.1). A change in
# trafilatura fails here: re-derive service/extraction/byline_search.py, then update this.
DERIVED_FROM = "29298d1fa7279c60"

TRICKY = b"""<html><body>
<div class="Comments-box"><span class="author">In comments</span></div>
<div class="xcomments"><span class="authorName">Not anchored comments</span></div>
<div id="comment-list"><p class="byline">Listed</p></div>
<section class="printer-friendly"><a rel="author">Printed</a></section>
<span class="article-support"><span class="writer">Support</span></span>
<p class="title">T</p><span class="article-shared">x</span><div class="Author">Capital A</div>
<div id="newsAuthor">By id</div><h4 class="journalist-names">Journalist</h4>
<p class="post-authorname">Name</p><author>Tag element</author>
<strong class="AuthorName">Strong</strong><span data-component="FigureX">
<span class="author">Figure</span></span><span class="submitted-by-x">Sub <time>x</time></span>
<span class="sidebar-ish">Side</span><p class="byline">Jo<time>x</time>hn Smith</p>
<figure><span class="author">Caption</span></figure>
<div itemprop="author name">Item Prop</div><a data-testid="AuthorURL">Test Id</a>
<li class="byline">Not a generic tag</li><li data-component="Bylines">Data component</li>
</body></html>"""


def tree_of(markup: bytes) -> HtmlElement:
    tree = parse_html(decode_html(markup, None), max_depth=200)
    assert tree is not None
    return tree


def fingerprint() -> str:
    text = "\n".join(x.path for x in [*AUTHOR_DISCARD_XPATHS, *AUTHOR_XPATHS])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_the_predicates_were_derived_from_these_xpaths() -> None:
    assert fingerprint() == DERIVED_FROM, "trafilatura's byline XPaths changed"


@pytest.mark.parametrize("path", PAGES, ids=[p.name.removesuffix(".html.gz") for p in PAGES])
def test_the_corpus_bylines_are_trafilaturas(path: Path) -> None:
    tree = tree_of(gzip.decompress(path.read_bytes()))
    assert find_author(tree) == extract_author(tree)


def test_each_expression_selects_what_its_xpath_selects() -> None:
    """On a page with an element for every test, and on a tenth of the corpus: the elements
    each expression collects are those trafilatura's XPath selects in its pruned copy."""
    for markup in (TRICKY, *(gzip.decompress(p.read_bytes()) for p in PAGES[::10])):
        tree = tree_of(markup)
        pruned = prune_unwanted_nodes(deepcopy(tree), AUTHOR_DISCARD_XPATHS)
        found: tuple[list[HtmlElement], ...] = ([], [], [])
        _visit(tree, found, _rel_parents(tree))
        for mine, expression in zip(found, AUTHOR_XPATHS, strict=True):
            theirs = expression(pruned)
            assert [path_of(e) for e in mine] == [path_of(e) for e in theirs]
            assert [trim(" ".join(_pieces(e))) for e in mine] == [
                trim(" ".join(e.itertext())) for e in theirs
            ]


def path_of(element: HtmlElement) -> list[tuple[str, int]]:
    """Tags and attributes of the element and its ancestors (positions shift in the pruned
    copy, so they are not compared)."""
    return [(e.tag, tuple(sorted(e.attrib.items()))) for e in [element, *element.iterancestors()]]


def test_the_tricky_page_hits_every_expression() -> None:
    tree = tree_of(TRICKY)
    found: tuple[list[HtmlElement], ...] = ([], [], [])
    _visit(tree, found, _rel_parents(tree))
    assert all(found)
    texts = " ".join(trim(" ".join(_pieces(e))) for elements in found for e in elements)
    assert "In comments" not in texts  # pruned first
    assert "Caption" not in texts
    assert "John Smith" in texts  # a deleted child's tail joins the text before it
    assert "Jo hn" not in texts
    assert find_author(tree) == extract_author(tree)


def test_the_page_is_left_intact() -> None:
    tree = tree_of(TRICKY)
    before = [e.tag for e in tree.iter()]
    assert read_bylines(tree) == [n.strip() for n in (extract_author(tree) or "").split(";")]
    assert [e.tag for e in tree.iter()] == before
