"""The main-text stage: inert elements dropped after the metadata read, trafilatura's cheap
pass first and its full cascade only when that pass looks poor."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from lxml.html import HtmlElement

from service.extraction import extract_article
from service.extraction.html import INERT_TAGS, decode_html, drop_inert, parse_html
from service.extraction.text import has_words, word_count
from service.extraction.trafilatura_adapter import _trafilatura_text, extract_text, looks_poor
from service.models import FetchedPage

URL = "https://news.example.com/2026/03/harbour-wall-approved"
PARAGRAPHS = [
    "The committee met on Thursday to discuss the future of the river crossing, which has "
    f"been closed to lorries since an inspection found cracks in pier number {n}."
    for n in range(1, 6)
]
JSONLD = {
    "@context": "https://schema.org",
    "@type": "NewsArticle",
    "headline": "Harbour wall approved",
    "author": {"@type": "Person", "name": "Ada Lovelace"},
    "datePublished": "2026-03-14T09:30:00Z",
}
INERT = (
    "<script>var state = {'secret': 'SCRIPT-TEXT'};</script>"
    "<style>.x { content: 'STYLE-TEXT' }</style>"
    "<noscript>NOSCRIPT-TEXT</noscript>"
    "<svg><text>SVG-TEXT</text></svg>"
    "<iframe>IFRAME-TEXT</iframe>"
)


def tree_of(markup: str) -> HtmlElement:
    tree = parse_html(decode_html(markup.encode(), None), max_depth=200)
    assert tree is not None
    return tree


def story(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{text}</p>{INERT}" for text in paragraphs)
    script = f'<script type="application/ld+json">{json.dumps(JSONLD)}</script>'
    return (
        f"<html><head><title>Harbour wall approved</title>{script}</head>"
        f"<body><article><h1>Harbour wall approved</h1>{body}</article></body></html>"
    )


def test_drop_inert_removes_their_content_and_keeps_the_tails() -> None:
    tree = tree_of(f"<html><body><p>before {INERT}after</p></body></html>")
    drop_inert(tree)
    assert not list(tree.iter(*INERT_TAGS))
    assert " ".join(tree.text_content().split()) == "before after"


def test_metadata_in_scripts_still_read_and_no_script_text_in_the_body() -> None:
    fetched = datetime(2026, 3, 15, tzinfo=UTC)
    page = FetchedPage(
        requested_url=URL, url=URL, content=story(PARAGRAPHS).encode(), fetched_at=fetched
    )
    article = extract_article(page)
    assert article.authors == ["Ada Lovelace"]
    assert article.published_at == datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    assert article.text.split("\n\n") == PARAGRAPHS
    for marker in ("SCRIPT", "STYLE", "NOSCRIPT", "SVG", "IFRAME"):
        assert f"{marker}-TEXT" not in article.text


def test_poor_text_is_short_or_without_paragraphs() -> None:
    assert looks_poor("")
    assert looks_poor("A headline and nothing else.")
    assert looks_poor(" ".join(PARAGRAPHS))  # long enough, but one line: no paragraphs
    assert not looks_poor("\n".join(PARAGRAPHS))
    few_words = "\n".join(["Seventy nine words and no more than that, in several lines."] * 6)
    assert looks_poor(few_words)  # 66 words: under POOR_WORDS however long the lines
    assert has_words(few_words, 66)
    assert not has_words(few_words, 67)
    assert word_count(few_words) == 66


def test_a_story_in_a_script_without_spaces_is_counted_in_words() -> None:
    # 5 lines of 70 Japanese characters: under 500 characters, a word a character: not poor
    sentence = "東京都は水曜日、湾岸地区の防潮堤の改修計画を正式に承認したと発表した。"
    japanese = "\n".join([sentence * 2] * 5)
    assert len(japanese) < 500
    assert not looks_poor(japanese)


def test_cheap_pass_kept_when_it_looks_good() -> None:
    tree = tree_of(story(PARAGRAPHS))
    cheap = _trafilatura_text(tree, URL, fast=True)
    assert not looks_poor(cheap)
    assert extract_text(tree, URL) == cheap


def test_full_cascade_when_the_cheap_pass_looks_poor() -> None:
    tree = tree_of(story(PARAGRAPHS[:1]))
    assert looks_poor(_trafilatura_text(tree, URL, fast=True))
    full = _trafilatura_text(tree, URL, fast=False)
    assert full
    assert extract_text(tree, URL) == full
