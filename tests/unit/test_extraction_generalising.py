"""The metadata rules of issue 14, each on a small page that shows its pattern: two
headline pairs, a trailing section part, a headline in ``application-name``, a date in
the title trailer, client-rendered pages, role suffixes and labelled visible bylines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.errors import PermanentError, Reason
from service.extraction import extract_article
from service.extraction.authors import split_authors
from service.extraction.titles import site_keys, strip_site_name, without_lone_trailer
from service.models import Article, FetchedPage

URL = "https://www.zeitung-oesterreich.example/politik/harbour-wall"
BODY = "".join(
    f"<p>Paragraph {i} of the story tells how the harbour wall was approved by the council "
    "after a long debate about the cost and the risk of storms.</p>"
    for i in range(4)
)


def extract(html: str, url: str = URL) -> Article:
    return extract_article(
        FetchedPage(
            requested_url=url,
            url=url,
            content=html.encode(),
            content_type="text/html",
            fetched_at=datetime(2030, 1, 1, tzinfo=UTC),
        )
    )


def page(
    *,
    title: str,
    h1: str,
    og: str | None = None,
    jsonld: dict[str, Any] | None = None,
    head: str = "",
    body: str = BODY,
) -> str:
    meta = f'<meta property="og:title" content="{og}">' if og else ""
    script = f'<script type="application/ld+json">{json.dumps(jsonld)}</script>' if jsonld else ""
    return (
        f"<html><head><title>{title}</title>{meta}{head}{script}</head>"
        f"<body><article><h1>{h1}</h1>{body}</article></body></html>"
    )


def news(**fields: Any) -> dict[str, Any]:
    return {"@context": "https://schema.org", "@type": "NewsArticle", **fields}


# --- 1. two headlines, two pairs ---------------------------------------------------------


def test_displayed_pair_wins_over_the_seo_pair() -> None:
    seo, shown = "Council approves harbour wall for 40 million", "A wall against the storms"
    html = page(title=f"{seo} | Zeitung", h1=shown, og=shown, jsonld=news(headline=seo))
    assert extract(html).title == shown


def test_one_pair_only_keeps_the_jsonld_headline() -> None:
    seo, shown = "Council approves harbour wall for 40 million", "A wall against the storms"
    # og:title differs, but the <h1> is the JSON-LD headline: no displayed pair
    html = page(title=f"{seo} | Zeitung", h1=seo, og=shown, jsonld=news(headline=seo))
    assert extract(html).title == seo


# --- 2. a trailing section part that other sources lack; site spellings ---------------------


def test_short_trailing_part_that_the_other_sources_lack_goes() -> None:
    assert (
        without_lone_trailer("Harbour wall approved | Lokales", ["Harbour wall approved"])
        == "Harbour wall approved"
    )
    # most sources carry it: it stays (the expected title keeps it too)
    others = ["Harbour wall approved - Lokales", "Harbour wall approved"] * 2
    assert without_lone_trailer("Harbour wall approved - Lokales", others) == (
        "Harbour wall approved - Lokales"
    )
    # a long tail is part of the headline
    long_tail = "Harbour wall approved - and what the vote means for the town"
    assert without_lone_trailer(long_tail, ["Harbour wall approved"]) == long_tail


def test_trailing_section_removed_from_the_page() -> None:
    headline = "Harbour wall approved after a long debate"
    html = page(
        title=f"{headline} | Lokales",
        h1=headline,
        og=headline,
        jsonld=news(headline=f"{headline} | Lokales"),
    )
    assert extract(html).title == headline


def test_site_names_match_across_spellings() -> None:
    keys = site_keys([], "www.zeitung-oesterreich.example", "zeitung-oesterreich.example")
    assert strip_site_name("Harbour wall approved | Zeitung Österreich", keys) == (
        "Harbour wall approved"
    )
    two_letters = site_keys(["BR"], "www.br.example", "br.example")
    assert strip_site_name("Harbour wall approved | BR", two_letters) == "Harbour wall approved"
    # a two-letter word that is no host label is no site name
    other = site_keys(["XY"], "www.br.example", "br.example")
    assert strip_site_name("Harbour wall approved | XY", other) == "Harbour wall approved | XY"


# --- 3. a meta tag that holds the headline ---------------------------------------------


def test_application_name_equal_to_the_headline_is_no_site_name() -> None:
    headline = "Harbour wall approved - what the vote means"
    html = page(
        title=headline,
        h1=headline,
        head=f'<meta name="application-name" content="{headline}">',
    )
    article = extract(html)
    assert article.title == headline
    assert article.site.name is None


# --- 5. a date in the title trailer ---------------------------------------------------


def test_date_in_the_title_trailer_before_the_htmldate_search() -> None:
    teaser = (
        '<div class="related"><a href="/old">Old story</a>'
        '<time class="entry-date published" datetime="2019-02-03T10:00:00">3.2.2019</time>'
    )
    html = page(
        title="Harbour wall approved - Zeitung - 28.04.2023",
        h1="Harbour wall approved",
        body=BODY + teaser + "</div>",
    )
    article = extract(html)
    assert article.published_at is not None
    assert article.published_at.date().isoformat() == "2023-04-28"
    assert article.title == "Harbour wall approved"


# --- 4. client-rendered pages; role suffixes in bylines ------------------------------------

PAGES = Path(__file__).resolve().parent.parent / "data" / "pages"
STORY_START = "The council approved the new harbour wall on Tuesday evening"
STORY_ENDS = ("lasted more than four hours.", "twice last year.", "40 million euros.")


@pytest.mark.parametrize(
    "name", ["client_rendered_next", "client_rendered_state", "client_rendered_jsonld"]
)
def test_client_rendered_page_yields_the_story_from_its_json_state(name: str) -> None:
    html = (PAGES / f"{name}.html").read_text(encoding="utf-8")
    article = extract(html, "https://client.example/news/harbour-wall")
    assert article.text.startswith(STORY_START)
    ends = [article.text.find(end) for end in STORY_ENDS]
    assert -1 not in ends
    assert ends == sorted(ends)
    assert "Loading" not in article.text
    assert "x" * 50 not in article.text  # the SEO description is not the body
    assert article.title == "Harbour wall approved"


def test_korean_role_suffix_is_no_part_of_the_name() -> None:
    html = (PAGES / "client_rendered_jsonld.html").read_text(encoding="utf-8")
    assert extract(html, "https://client.example/news/1").authors == ["홍길동"]
    assert split_authors(["김철수 선임기자, 이영희 특파원 lee@news.example"], exclude=set()) == [
        "김철수",
        "이영희",
    ]


def state_page(script: str) -> str:
    return f"<html><head><title>T</title>{script}</head><body><p>Short.</p></body></html>"


@pytest.mark.parametrize(
    "script",
    [
        # nested deeper than the walk goes: the text below is never reached
        '<script type="application/json">'
        + '{"a":' * 5000
        + json.dumps({"body": "deep " * 100})
        + "}" * 5000
        + "</script>",
        '<script>window.__INITIAL_STATE__ = {"body": "' + "cut " * 100 + "</script>",  # broken
        '<script type="application/json">{"body": "' + "big " * 600_000 + '"}</script>',
        '<script type="application/json">{"body": "'
        + "<div>" * 400
        + "nested "
        + "x" * 300
        + '"}</script>',
    ],
    ids=["deep-json", "broken-json", "oversized-script", "deep-html-in-field"],
)
def test_hostile_json_state_ends_in_extraction_empty(script: str) -> None:
    with pytest.raises(PermanentError) as caught:
        extract(state_page(script))
    assert caught.value.reason is Reason.EXTRACTION_EMPTY


# --- 6. visible bylines only under a strong cue ------------------------------------------


def test_labelled_byline_names_the_author_when_no_metadata_does() -> None:
    html = page(
        title="Harbour wall approved",
        h1="Harbour wall approved",
        body="<p>By Jane Roe and John Doe</p>" + BODY,
    )
    article = extract(html)
    assert article.authors == ["Jane Roe", "John Doe"]
    assert "By Jane Roe" not in article.text


def test_a_short_line_without_a_label_is_no_byline() -> None:
    html = page(
        title="Harbour wall approved", h1="Harbour wall approved", body="<p>Jane Roe</p>" + BODY
    )
    assert extract(html).authors == []
    labelled_sentence = "<p>By the harbour, nothing moved at all.</p>"
    html = page(
        title="Harbour wall approved", h1="Harbour wall approved", body=labelled_sentence + BODY
    )
    assert extract(html).authors == []
