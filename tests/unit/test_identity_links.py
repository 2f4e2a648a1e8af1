"""Registered domains come from the public-suffix list with its private section: a page on a
shared host cannot take the article id of another publication on the same host."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.extraction import extract_article, extract_story
from service.extraction.links import choose_canonical, foreign_canonical, registered_domain
from service.models import FetchedPage
from service.urls import article_id


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.bbc.co.uk/news/x", "bbc.co.uk"),
        ("https://news.example.com/a", "example.com"),
        ("https://evil.blogspot.com/2026/story", "evil.blogspot.com"),
        ("https://victim.blogspot.com/", "victim.blogspot.com"),
        ("https://someone.github.io/post", "someone.github.io"),
        ("https://shop.netlify.app/", "shop.netlify.app"),
        ("http://127.0.0.1:8080/news/1", "127.0.0.1"),
        ("http://localhost/news/1", "localhost"),
    ],
)
def test_registered_domain_uses_the_private_section(url: str, domain: str) -> None:
    assert registered_domain(url) == domain


@pytest.mark.parametrize(
    ("page", "claimed"),
    [
        ("https://evil.blogspot.com/2026/story", "https://victim.blogspot.com/2026/story"),
        ("https://evil.github.io/story", "https://victim.github.io/story"),
        ("https://evil.netlify.app/story", "https://victim.netlify.app/story"),
    ],
)
def test_a_canonical_link_to_another_tenant_of_a_shared_host_is_not_trusted(
    page: str, claimed: str
) -> None:
    assert choose_canonical(page, [claimed]) == page


def test_a_hostile_page_cannot_take_another_blogs_article_id() -> None:
    victim = "https://victim.blogspot.com/2026/11/harbour.html"
    body = " ".join(["The harbour wall was approved by the council on Tuesday."] * 8)
    html = (
        f'<html><head><link rel="canonical" href="{victim}"><title>Harbour</title></head>'
        f"<body><article><h1>Harbour</h1><p>{body}</p></article></body></html>"
    )
    fetched = FetchedPage(
        requested_url="https://evil.blogspot.com/2026/11/harbour.html",
        url="https://evil.blogspot.com/2026/11/harbour.html",
        content=html.encode(),
        fetched_at=datetime(2026, 11, 25, tzinfo=UTC),
    )
    article = extract_article(fetched)
    assert article.canonical_url == "https://evil.blogspot.com/2026/11/harbour.html"
    assert article.id != article_id(victim)
    assert article.site.domain == "evil.blogspot.com"


def test_a_cross_site_canonical_is_kept_as_a_claim_not_as_the_id() -> None:
    assert foreign_canonical(
        "https://partner.example/wire/1", ["https://origin.example/story?utm_source=x"]
    ) == ("https://origin.example/story")
    assert foreign_canonical("https://www.example.com/a", ["https://example.com/a"]) is None
    assert foreign_canonical("https://a.example/x", ["https://b.example/"]) is None  # home page
    html = (
        "<html><head><link rel='canonical' href='https://origin.example/story'><title>T</title>"
        "</head><body><article><p>"
        + "The council approved the harbour wall. " * 10
        + "</p></article></body></html>"
    )
    url = "https://partner.example/wire/1"
    fetched = FetchedPage(
        requested_url=url,
        url=url,
        content=html.encode(),
        fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    story = extract_story(fetched)
    assert story.claimed_canonical == "https://origin.example/story"
    assert story.article.id == article_id(url)
