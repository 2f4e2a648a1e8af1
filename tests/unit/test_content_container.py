"""The story's container: the innermost semantic element holding nearly all paragraph text,
handed to trafilatura alone; pages without one are read whole."""

from __future__ import annotations

import pytest
from lxml import etree
from lxml.html import HtmlElement

from service.extraction.container import content_container, content_document
from service.extraction.html import decode_html, parse_html
from service.extraction.trafilatura_adapter import _trafilatura_text, extract_text

URL = "https://news.example.com/2026/03/harbour-wall-approved"
STORY = [
    f"Paragraph {n} of the story: the committee met on Thursday to discuss the river "
    "crossing, closed to lorries since an inspection found cracks in one of its piers."
    for n in range(1, 7)
]
TEASERS = "".join(
    f"<article class='teaser'><h3>Other story {n}</h3><p>A teaser of {n}.</p></article>"
    for n in range(4)
)


def tree_of(markup: str) -> HtmlElement:
    tree = parse_html(decode_html(markup.encode(), None), max_depth=200)
    assert tree is not None
    return tree


def page(story: str, *, around: str = "") -> str:
    return (
        "<html><head><title>Harbour wall approved</title></head><body>"
        f"<nav><a href='/'>Home</a><a href='/news'>News</a></nav>{around}{story}"
        f"<aside>{TEASERS}</aside><footer><p>Copyright the publisher.</p></footer>"
        "</body></html>"
    )


def paragraphs(lines: list[str]) -> str:
    return "".join(f"<p>{line}</p>" for line in lines)


def test_the_innermost_container_holding_the_story_is_chosen() -> None:
    body = f"<div itemprop='articleBody'>{paragraphs(STORY)}</div>"
    tree = tree_of(page(f"<main><article><h1>Harbour wall</h1>{body}</article></main>"))
    container = content_container(tree)
    assert container is not None
    assert container.get("itemprop") == "articleBody"


def test_teaser_articles_are_not_the_container() -> None:
    tree = tree_of(page(f"<div class='story'>{paragraphs(STORY)}</div>"))
    assert content_container(tree) is None  # only teasers are <article>s: read the page whole
    with content_document(tree) as document:
        assert document is tree


def test_a_container_missing_too_much_of_the_text_is_not_used() -> None:
    inside, outside = STORY[:3], STORY[3:]
    tree = tree_of(page(f"<article>{paragraphs(inside)}</article>{paragraphs(outside)}"))
    assert content_container(tree) is None


def test_too_little_paragraph_text_to_judge_by() -> None:
    tree = tree_of(page("<article><p>Short.</p></article>"))
    assert content_container(tree) is None


def test_the_document_holds_the_container_and_the_page_is_put_back() -> None:
    tree = tree_of(page(f"<article>{paragraphs(STORY)}</article>tail text"))
    before = etree.tostring(tree)
    with content_document(tree) as document:
        assert document is not tree
        assert [element.tag for element in document] == ["body"]
        assert document.find("body/article") is not None
        assert "Copyright the publisher" not in document.text_content()
        assert "tail text" not in document.text_content()
    assert etree.tostring(tree) == before  # the container and its tail back in their place


def test_the_page_is_put_back_after_an_error() -> None:
    tree = tree_of(page(f"<main><article>{paragraphs(STORY)}</article></main>"))
    before = etree.tostring(tree)
    with pytest.raises(RuntimeError), content_document(tree):
        raise RuntimeError("trafilatura failed")
    assert etree.tostring(tree) == before


def test_the_text_from_the_container_is_the_text_from_the_page() -> None:
    tree = tree_of(page(f"<article><h1>Harbour wall</h1>{paragraphs(STORY)}</article>"))
    assert content_container(tree) is not None
    whole = _trafilatura_text(tree, URL, fast=True)
    assert extract_text(tree, URL) == whole
    assert extract_text(tree, URL).splitlines()[-len(STORY) :] == STORY
