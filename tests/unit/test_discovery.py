"""Discovery (PURE): advertised feeds of a page, robots.txt sitemaps, document kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.discovery import advertised_feeds, document_kind, robots_sitemaps
from service.errors import PermanentError, Reason

DATA = Path(__file__).resolve().parent.parent / "data" / "sources"


def test_advertised_feeds_resolved_against_the_base_in_page_order() -> None:
    page = (DATA / "home.html").read_bytes()
    assert advertised_feeds(page, url="https://publisher.example/", max_bytes=1_000_000) == [
        "https://publisher.example/news/rss.xml",
        "https://feeds.publisher.example/atom",
        "https://publisher.example/feed.json",
    ]


def test_a_page_without_alternate_feeds_advertises_none() -> None:
    page = b"<html><head><link rel='alternate' hreflang='de' href='/de/'></head></html>"
    assert advertised_feeds(page, url="https://a.example/", max_bytes=1000) == []
    assert advertised_feeds(b"", url="https://a.example/", max_bytes=1000) == []


def test_an_oversized_page_is_refused() -> None:
    with pytest.raises(PermanentError) as caught:
        advertised_feeds(b"<html>" + b"x" * 2000, url="https://a.example/", max_bytes=1000)
    assert caught.value.reason is Reason.TOO_LARGE


def test_robots_sitemaps_absolute_deduplicated_comments_ignored() -> None:
    text = (DATA / "robots.txt").read_text()
    assert robots_sitemaps(text, url="https://publisher.example/robots.txt") == [
        "https://publisher.example/sitemap-news.xml",
        "https://publisher.example/sitemap_index.xml",
    ]


@pytest.mark.parametrize(
    ("name", "kind"),
    [("home.html", "html"), ("news.xml", "sitemap"), ("index.xml", "sitemap")],
)
def test_document_kind_by_content(name: str, kind: str) -> None:
    assert document_kind((DATA / name).read_bytes()) == kind


def test_feeds_are_feeds() -> None:
    rss = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"
    assert document_kind(rss) == "feed"
    assert document_kind(b'{"version": "https://jsonfeed.org/version/1.1"}') == "feed"
