"""extract_article end to end on hand-written pages: chrome, standfirst, metadata, failures."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.addresses import AddressGuard
from service.errors import PermanentError, Reason
from service.extraction import EXTRACTOR, extract_article
from service.hashing import short_hash
from service.models import Article, FeedEntry, FetchedPage
from service.urls import article_id

PAGES = Path(__file__).resolve().parent.parent / "data" / "pages"
FETCHED = datetime(2026, 3, 15, tzinfo=UTC)
URL = "https://www.daily-example.co.uk/news/harbour-wall-approved?utm_source=rss"
CHROME = (
    "Home",
    "Sport",
    "Weather",
    "Share on Facebook",
    "Share on Twitter",
    "3 min read",
    "Sign up for our daily newsletter",
    "Get the biggest stories",
    "Subscribe",
    "Download our app",
    "Listen to our podcast",
    "All rights reserved",
    "©",
)
PARAGRAPH = (
    "The committee met on Thursday to discuss the future of the river crossing, which has "
    "been closed to lorries since an inspection found cracks in two of its supporting piers."
)


def page(content: str | bytes, url: str = URL, encoding: str | None = None) -> FetchedPage:
    data = content.encode() if isinstance(content, str) else content
    return FetchedPage(
        requested_url=url, url=url, content=data, encoding=encoding, fetched_at=FETCHED
    )


def html(body: str, head: str = "", lang: str = "en") -> str:
    return f"<!doctype html><html lang='{lang}'><head>{head}</head><body>{body}</body></html>"


@pytest.fixture(scope="module")
def chrome_story() -> Article:
    return extract_article(page((PAGES / "chrome_story.html").read_bytes()))


def test_no_site_chrome_in_title_summary_or_text(chrome_story: Article) -> None:
    for field in (chrome_story.title, chrome_story.summary or "", chrome_story.text):
        for chrome in CHROME:
            assert chrome not in field, (chrome, field[:200])


def test_standfirst_opens_the_text_and_is_the_summary(chrome_story: Article) -> None:
    standfirst = "After three winters of flooding, councillors voted by a narrow margin"
    assert chrome_story.text.startswith(standfirst)
    assert chrome_story.summary is not None
    assert chrome_story.summary.startswith(standfirst)
    assert chrome_story.text.count(standfirst) == 1


def test_story_paragraphs_separated_by_one_blank_line(chrome_story: Article) -> None:
    paragraphs = chrome_story.text.split("\n\n")
    assert len(paragraphs) == 6
    assert all(paragraph and "\n" not in paragraph for paragraph in paragraphs)
    assert paragraphs[-1].startswith("Work on the foundations")


def test_metadata_of_the_fixture(chrome_story: Article) -> None:
    assert chrome_story.title == "Council approves new harbour wall after stormy debate"
    assert chrome_story.authors == ["Jane Doe", "John Roe"]  # "The Daily Example" dropped
    assert chrome_story.published_at == datetime(2026, 3, 14, 7, 30, tzinfo=UTC)
    assert chrome_story.updated_at == datetime(2026, 3, 14, 9, 5, tzinfo=UTC)
    assert chrome_story.language == "en"
    assert chrome_story.site.name == "The Daily Example"
    assert chrome_story.site.domain == "daily-example.co.uk"
    assert chrome_story.tags == ["harbour", "council", "storms"]
    assert chrome_story.fetched_at == FETCHED
    assert chrome_story.extractor == EXTRACTOR


def test_canonical_url_normalised_and_id_derived(chrome_story: Article) -> None:
    canonical = "https://www.daily-example.co.uk/news/harbour-wall-approved"
    assert chrome_story.canonical_url == canonical  # tracking parameters and fragment gone
    assert chrome_story.url == URL  # the fetched URL, untouched
    assert chrome_story.id == article_id(canonical)
    assert chrome_story.content_hash == short_hash(chrome_story.text)
    assert chrome_story.word_count == len(chrome_story.text.split())


def test_javascript_image_dropped_relative_image_resolved(chrome_story: Article) -> None:
    assert chrome_story.image == "https://www.daily-example.co.uk/images/harbour-wall.jpg"


@pytest.mark.parametrize(
    "bad",
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:void(0)",
        "file:///etc/passwd",
        "ftp://example.org/a.jpg",
    ],
)
def test_non_http_images_never_published(bad: str) -> None:
    head = f'<meta property="og:image" content="{bad}">'
    article = extract_article(
        page(html(f"<article><p>{PARAGRAPH}</p></article>", head)), min_text_chars=50
    )
    assert article.image is None


@pytest.mark.parametrize(
    "internal",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/a.jpg",
        "http://127.0.0.1/a.jpg",
        "http://2130706433/a.jpg",
        "http://0177.0.0.1/a.jpg",
        "http://[::1]/a.jpg",
        "http://[::ffff:10.0.0.1]/a.jpg",
        "http://[fd00::1]/a.jpg",
        "http://localhost:8080/a.jpg",
        "http://cdn.localhost/a.jpg",
    ],
)
def test_images_on_internal_addresses_never_published(internal: str) -> None:
    """An image URL is handed to every consumer: it must not point inside a network."""
    jsonld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": "Harbour wall approved",
            "image": internal,
        }
    )
    head = (
        f'<script type="application/ld+json">{jsonld}</script>'
        '<meta property="og:image" content="https://cdn.example.org/public.jpg">'
    )
    body = f"<article><p>{PARAGRAPH}</p></article>"
    article = extract_article(page(html(body, head)), min_text_chars=50)
    assert article.image == "https://cdn.example.org/public.jpg"  # the next candidate
    only = extract_article(
        page(html(body, f'<meta property="og:image" content="{internal}">')), min_text_chars=50
    )
    assert only.image is None


def test_allowed_networks_let_their_images_through() -> None:
    head = '<meta property="og:image" content="http://10.1.2.3/a.jpg">'
    body = f"<article><p>{PARAGRAPH}</p></article>"
    allowed = AddressGuard(allowed_networks=["10.1.0.0/16"])
    article = extract_article(page(html(body, head)), min_text_chars=50, links=allowed)
    assert article.image == "http://10.1.2.3/a.jpg"
    head = '<meta property="og:image" content="http://169.254.169.254/a.jpg">'
    article = extract_article(page(html(body, head)), min_text_chars=50, links=allowed)
    assert article.image is None


def test_dates_converted_to_utc_honouring_the_offset() -> None:
    head = (
        '<meta property="article:published_time" content="2024-05-03T23:47:42-05:00">'
        '<meta property="article:modified_time" content="2024-05-04T08:00:00">'
    )
    article = extract_article(
        page(html(f"<article><p>{PARAGRAPH}</p></article>", head)), min_text_chars=50
    )
    assert article.published_at == datetime(2024, 5, 4, 4, 47, 42, tzinfo=UTC)
    assert article.updated_at == datetime(2024, 5, 4, 8, 0, tzinfo=UTC)  # naive: taken as UTC


def test_jsonld_graph_metadata_wins() -> None:
    jsonld = """<script type="application/ld+json">{"@context": "https://schema.org",
      "@graph": [{"@type": "Organization", "@id": "#org", "name": "Example News"},
                 {"@type": ["NewsArticle"], "headline": "Bridge closed to lorries",
                  "author": [{"@type": "Person", "name": "Ann Smith"},
                             {"@type": "Organization", "name": "Example News"}],
                  "publisher": {"@id": "#org"}, "datePublished": "2025-01-02T10:00:00+01:00",
                  "image": [{"@type": "ImageObject", "url": "https://cdn.example.org/b.jpg"}],
                  "inLanguage": "en-US", "keywords": ["bridges", "transport"]}]}</script>"""
    head = jsonld + "<title>Something else entirely | Example News</title>"
    article = extract_article(
        page(html(f"<article><p>{PARAGRAPH}</p></article>", head)), min_text_chars=50
    )
    assert article.title == "Bridge closed to lorries"
    assert article.authors == ["Ann Smith"]  # the publisher is no author
    assert article.site.name == "Example News"
    assert article.published_at == datetime(2025, 1, 2, 9, 0, tzinfo=UTC)
    assert article.image == "https://cdn.example.org/b.jpg"
    assert article.language == "en"
    assert article.tags == ["bridges", "transport"]


def test_language_from_html_lang_region_tag_or_detected() -> None:
    german = (
        "Der Gemeinderat hat am Dienstag beschlossen, die Brücke über den Fluss für "
        "Lastwagen zu sperren, nachdem Risse in zwei Pfeilern gefunden worden waren."
    )
    declared = extract_article(page(html(f"<p>{german}</p>", lang="de-AT")), min_text_chars=50)
    assert declared.language == "de"
    detected = extract_article(
        page(f"<html><body><p>{german}</p></body></html>"), min_text_chars=50
    )
    assert detected.language == "de"


def test_feed_entry_hints_used_when_the_page_has_no_metadata() -> None:
    entry = FeedEntry(
        feed_url="https://example.org/feed.xml",
        feed_title="Example Feed",
        entry_id="1",
        url=URL,
        title="Lorries banned from the old bridge",
        authors=("By Kim Lee",),
        published_at=datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
        summary="The bridge is closed.",
        tags=("transport",),
        image="https://example.org/bridge.jpg",
    )
    article = extract_article(
        page(f"<html><body><div><p>{PARAGRAPH}</p></div></body></html>"), entry, min_text_chars=50
    )
    assert article.title == "Lorries banned from the old bridge"
    assert article.authors == ["Kim Lee"]
    assert article.published_at == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert article.summary == "The bridge is closed."
    assert article.tags == ["transport"]
    assert article.image == "https://example.org/bridge.jpg"
    assert article.feed is not None
    assert (article.feed.url, article.feed.title) == (
        "https://example.org/feed.xml",
        "Example Feed",
    )


def test_feed_content_is_the_fallback_body() -> None:
    entry = FeedEntry(
        feed_url="https://example.org/feed.xml",
        entry_id="2",
        title="Closed",
        content_html=f"<p>{PARAGRAPH}</p><p>{PARAGRAPH[::-1]}</p>",
    )
    article = extract_article(page(html("<div id='app'></div>")), entry, min_text_chars=100)
    assert article.text == f"{PARAGRAPH}\n\n{PARAGRAPH[::-1]}"
    assert article.title == "Closed"


@pytest.mark.parametrize("content", [b"", b"   ", html("<nav><a href='/'>Home</a></nav>")])
def test_empty_page_is_extraction_empty(content: str | bytes) -> None:
    with pytest.raises(PermanentError) as caught:
        extract_article(page(content))
    assert caught.value.reason is Reason.EXTRACTION_EMPTY


def test_binary_content_is_a_parse_error() -> None:
    with pytest.raises(PermanentError) as caught:
        extract_article(page(bytes(range(256)) * 40))
    assert caught.value.reason is Reason.PARSE_ERROR


@pytest.mark.parametrize("depth", [300, 100_000])
def test_depth_bomb_refused_quickly(depth: int) -> None:
    bomb = "<html><body>" + "<div>" * depth + PARAGRAPH + "</div>" * depth + "</body></html>"
    start = time.perf_counter()
    with pytest.raises(PermanentError) as caught:
        extract_article(page(bomb), max_depth=200)
    assert caught.value.reason is Reason.HOSTILE_CONTENT
    assert time.perf_counter() - start < 0.5


def test_nesting_within_the_limit_is_fine() -> None:
    nested = "<div>" * 150 + f"<p>{PARAGRAPH}</p>" + "</div>" * 150
    assert extract_article(page(html(nested)), min_text_chars=50, max_depth=200).text


def test_control_characters_and_unicode_normalised() -> None:
    dirty = PARAGRAPH.replace("committee", "commi\x00t\x07tee").replace("river", "rive\u0301r")
    body = f"<article><p>{dirty}</p><p>Second\u00a0  paragraph of the story,\tshort.</p></article>"
    article = extract_article(page(html(body)), min_text_chars=50)
    assert "committee" in article.text
    assert "riv\u00e9r" in article.text  # NFC: e + combining acute -> é
    assert "Second paragraph of the story, short." in article.text
    assert not any(ord(char) < 32 and char != "\n" for char in article.text)


def test_declared_charset_used_for_legacy_encodings() -> None:
    body = html(f"<p>Café société à Zürich. {PARAGRAPH}</p>", '<meta charset="iso-8859-1">').encode(
        "latin-1"
    )
    assert "Café société à Zürich" in extract_article(page(body), min_text_chars=50).text


@pytest.mark.parametrize(("codec", "declared"), [("utf-16", None), ("utf-16-le", "UTF-16LE")])
def test_utf16_pages_decoded(codec: str, declared: str | None) -> None:
    body = html(f"<p>Café in Zürich. {PARAGRAPH}</p>").encode(codec)
    article = extract_article(page(body, encoding=declared), min_text_chars=50)
    assert "Café in Zürich" in article.text


def test_non_http_page_url_refused() -> None:
    with pytest.raises(PermanentError) as caught:
        extract_article(page(html(f"<p>{PARAGRAPH}</p>"), url="file:///tmp/page.html"))
    assert caught.value.reason is Reason.BAD_URL


STORY = "".join(
    f"<p>{PARAGRAPH.replace('Thursday', day)}</p>" for day in ("Monday", "Tuesday", "Friday")
)


def test_bold_byline_above_the_body_is_the_author_not_text() -> None:
    body = (
        "<article><h1>Harbour wall approved</h1><p>&nbsp;</p>"
        "<p><strong>Jane Doe/John Roe</strong></p>" + STORY + "</article>"
    )
    article = extract_article(page(html(body)))
    assert article.authors == ["Jane Doe", "John Roe"]
    assert "Jane Doe" not in article.text


def test_bold_subheading_inside_the_body_is_no_byline() -> None:
    body = (
        f"<article><h1>Harbour wall approved</h1><p>{PARAGRAPH}</p>"
        "<p><strong>Second Operation</strong></p>" + STORY + "</article>"
    )
    assert extract_article(page(html(body))).authors == []


def test_link_to_an_author_page_is_the_byline_teaser_authors_are_not() -> None:
    body = (
        "<article><h1>Harbour wall approved</h1>"
        "<p class='meta'>von <a href='/autoren/name/max-muster'>Dr. Max Muster</a></p>"
        + STORY
        + "</article><aside><ul><li><div><a href='/author/other-one'>Other One</a></div></li>"
        "<li><div><a href='/authors/guide/'>Guide to authors</a></div></li></ul></aside>"
    )
    assert extract_article(page(html(body))).authors == ["Dr. Max Muster"]


def test_cms_admin_account_is_nobody() -> None:
    jsonld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Wall",'
        ' "author": {"@id": "https://www.daily-example.co.uk/author/admin/",'
        ' "name": "Daily D"}}</script>'
    )
    body = (
        "<article><p><a rel='author' href='/author/admin/'>Daily D</a></p>"
        "<p><b>JANE DOE</b></p>" + STORY + "</article>"
    )
    assert extract_article(page(html(body, head=jsonld))).authors == ["JANE DOE"]


def test_publisher_with_its_address_is_no_author() -> None:
    head = "<meta name='author' content='daily-example.co.uk, Exeter, United Kingdom'>"
    body = "<article>" + STORY + "</article>"
    assert extract_article(page(html(body, head=head))).authors == []
