"""Article fields beyond the first contract: section, paywall flag, image caption and
credit, keywords merged into tags -- each read from small pages that declare them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from service.extraction import extract_article
from service.models import Article, FetchedPage

URL = "https://news.example/world/harbour-wall"
BODY = "".join(
    f"<p>Paragraph {i} of the story tells how the harbour wall was approved by the council "
    "after a long debate about the cost and the risk of storms.</p>"
    for i in range(4)
)


def page(head: str, body: str = BODY, jsonld: dict[str, Any] | None = None) -> Article:
    script = f'<script type="application/ld+json">{json.dumps(jsonld)}</script>' if jsonld else ""
    html = (
        f"<html><head><title>Harbour wall approved</title>{head}{script}</head>"
        f"<body><article><h1>Harbour wall approved</h1>{body}</article></body></html>"
    )
    return extract_article(
        FetchedPage(
            requested_url=URL,
            url=URL,
            content=html.encode(),
            content_type="text/html",
            fetched_at=datetime(2030, 1, 1, tzinfo=UTC),
        )
    )


def article_node(**fields: Any) -> dict[str, Any]:
    return {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "H", **fields}


def test_nothing_declared_leaves_the_new_fields_empty() -> None:
    article = page("")
    assert article.section is None
    assert article.is_accessible_for_free is None
    assert article.image_caption is None
    assert article.image_credit is None


def test_section_from_article_section_meta_or_jsonld() -> None:
    assert page('<meta property="article:section" content="World">').section == "World"
    assert page("", jsonld=article_node(articleSection=["Politics", "Local"])).section == (
        "Politics"
    )


def test_paywall_markup_marks_the_article_not_free() -> None:
    paywalled = article_node(
        isAccessibleForFree="True",  # the article itself, but a part of it is not
        hasPart={"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".pw"},
    )
    assert page("", jsonld=paywalled).is_accessible_for_free is False
    assert page("", jsonld=article_node(isAccessibleForFree=False)).is_accessible_for_free is False
    assert page("", jsonld=article_node(isAccessibleForFree="True")).is_accessible_for_free is True
    undecided = article_node(isAccessibleForFree="maybe")
    assert page("", jsonld=undecided).is_accessible_for_free is None


def test_image_caption_and_credit_from_the_image_object() -> None:
    image = {
        "@type": "ImageObject",
        "url": "https://news.example/img/wall.jpg",
        "caption": "The new harbour wall at dawn",
        "creditText": "Jane Roe/Example Agency",
    }
    article = page("", jsonld=article_node(image=[image]))
    assert article.image == "https://news.example/img/wall.jpg"
    assert article.image_caption == "The new harbour wall at dawn"
    assert article.image_credit == "Jane Roe/Example Agency"


def test_image_caption_from_the_figure_showing_the_lead_image() -> None:
    figures = (
        '<figure><img src="/img/other.jpg"><figcaption>Another picture</figcaption></figure>'
        '<figure><img src="https://cdn.news.example/img/wall-1024x576.jpg">'
        '<figcaption>The wall at dawn <span class="credit">Photo: Jane Roe</span>'
        "</figcaption></figure>"
    )
    article = page(
        '<meta property="og:image" content="https://news.example/img/wall.jpg">',
        body=figures + BODY,
    )
    assert article.image_caption == "The wall at dawn"
    assert article.image_credit == "Photo: Jane Roe"


def test_keywords_of_every_source_merge_into_tags_without_duplicates() -> None:
    article = page(
        '<meta name="keywords" content="Harbour, Council, storms">'
        '<meta property="article:tag" content="harbour">',
        jsonld=article_node(keywords=["Council", "Budget"]),
    )
    assert article.tags == ["Council", "Budget", "Harbour", "storms"]


def test_a_media_player_box_gives_no_image_caption() -> None:
    player = (
        '<figure><video poster="/img/wall.jpg"></video><img src="/img/wall.jpg">'
        "<figcaption>Video 03:07 Min.</figcaption></figure>"
    )
    article = page(
        '<meta property="og:image" content="https://news.example/img/wall.jpg">',
        body=player + BODY,
    )
    assert article.image_caption is None
