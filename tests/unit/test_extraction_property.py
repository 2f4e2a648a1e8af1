"""Property: any page bytes (random, HTML-ish, or a real news page mutated), with or without a
feed entry, give a sound Article or a PermanentError with a documented reason — never
another exception, never ``INTERNAL``, in bounded time."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.errors import PermanentError, Reason
from service.extraction import extract_article
from service.models import Article, FeedEntry, FetchedPage
from tests.conftest import corpus_dir
from tests.support.mutation import mutated

URL = "https://news.example.org/2026/11/story"
FETCHED = datetime(2026, 11, 25, tzinfo=UTC)
EXPECTED = {Reason.PARSE_ERROR, Reason.HOSTILE_CONTENT, Reason.EXTRACTION_EMPTY}
# The smallest real pages: mutating the big ones would only make the run slower.
SEEDS = sorted(
    (gzip.decompress(p.read_bytes()) for p in corpus_dir("pages").glob("*.html.gz")), key=len
)[:12]
PROFILE = settings(
    max_examples=60,
    deadline=5000,  # ms per example: generous, the point is "bounded", not "fast"
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ENTRY = FeedEntry(
    feed_url="https://news.example.org/feed",
    feed_title="Example News",
    entry_id="urn:1",
    url=URL,
    title="Council approves the harbour wall",
    summary="The council approved the harbour wall on Thursday after a long debate.",
    content_html="<p>" + "The harbour wall was approved by the council. " * 8 + "</p>",
)


def check(content: bytes, *, entry: FeedEntry | None = None, encoding: str | None = None) -> None:
    page = FetchedPage(
        requested_url=URL, url=URL, content=content, encoding=encoding, fetched_at=FETCHED
    )
    try:
        article = extract_article(page, entry, min_text_chars=100)
    except PermanentError as exc:
        reason = exc.reason
    else:
        check_article(article)
        return
    assert reason in EXPECTED


def check_article(article: Article) -> None:
    assert isinstance(article, Article)
    Article.model_validate_json(article.model_dump_json())  # round-trips through the contract
    assert article.text.strip()
    assert "\x00" not in article.text
    assert "\x00" not in article.title
    assert article.word_count > 0


@PROFILE
@given(st.binary(max_size=8192), st.booleans())
def test_arbitrary_bytes(content: bytes, with_entry: bool) -> None:
    check(content, entry=ENTRY if with_entry else None)


@st.composite
def htmlish(draw: st.DrawFn) -> bytes:
    tags = st.sampled_from(
        [
            "div",
            "p",
            "article",
            "main",
            "h1",
            "script",
            "style",
            "table",
            "li",
            "a",
            "svg",
            "template",
            "noscript",
            "iframe",
            "body",
        ]
    )
    parts = []
    for _ in range(draw(st.integers(0, 40))):
        tag = draw(tags)
        parts.append(draw(st.sampled_from([f"<{tag}>", f"</{tag}>", f"<{tag} class='x'>"])))
        parts.append(draw(st.text(max_size=80)))
    head = draw(
        st.sampled_from(
            [
                "",
                "<meta charset='utf-8'>",
                "<meta property='og:title' content='T'>",
                '<script type=\'application/ld+json\'>{"@type": "NewsArticle", "headline": [1]}'
                "</script>",
                "<link rel='canonical' href='javascript:x'>",
            ]
        )
    )
    markup = f"<html><head>{head}</head><body>{''.join(parts)}</body></html>"
    return markup.encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])), "replace")


@PROFILE
@given(htmlish(), st.booleans(), st.sampled_from([None, "utf-8", "latin-1", "bogus"]))
def test_htmlish_pages(content: bytes, with_entry: bool, encoding: str | None) -> None:
    check(content, entry=ENTRY if with_entry else None, encoding=encoding)


PAGE_INSERTS = [
    b"<",
    b"&",
    b"<div>" * 300,
    b"\x00",
    b"\xff\xfe",
    b"<!--",
    b"</html>",
    b'<script type="application/ld+json">{',
]


@PROFILE
@given(mutated(SEEDS, PAGE_INSERTS, max_delete=4096), st.booleans())
def test_mutated_real_pages(content: bytes, with_entry: bool) -> None:
    check(content, entry=ENTRY if with_entry else None)
