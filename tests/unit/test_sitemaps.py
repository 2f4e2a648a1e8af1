"""Sitemaps (PURE): entries and hints, the freshness window, the caps, the guards."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.errors import PermanentError, Reason
from service.sitemaps import Limits, parse_sitemap

DATA = Path(__file__).resolve().parent.parent / "data" / "sources"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TWO_DAYS = 2 * 86_400.0


def limits(**overrides: object) -> Limits:
    values: dict[str, object] = {
        "now": NOW,
        "window": TWO_DAYS,
        "max_entries": 1000,
        "max_children": 20,
        "max_bytes": 1_000_000,
    }
    values.update(overrides)
    return Limits(**values)  # type: ignore[arg-type]


def read(name: str, **overrides: object) -> object:
    content = (DATA / name).read_bytes()
    return parse_sitemap(
        content,
        url=f"https://publisher.example/{name}",
        content_type=None,
        limits=limits(**overrides),
    )


def test_news_sitemap_entries_carry_the_news_hints() -> None:
    sitemap = parse_sitemap(
        (DATA / "news.xml").read_bytes(),
        url="https://publisher.example/news.xml",
        content_type="application/xml",
        limits=limits(),
    )
    assert sitemap.kind == "urlset"
    assert sitemap.news
    assert sitemap.read == 5
    first, second = sitemap.entries
    assert first.url == first.entry_id == "https://publisher.example/news/council-vote"
    assert first.title == "Council votes on the & budget"
    assert first.published_at == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # +02:00 honoured
    assert first.updated_at == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # lastmod, later
    assert first.language == "fr"
    assert first.tags == ("council", "budget")
    assert first.feed_title == "The Daily Example"
    assert first.feed_url == "https://publisher.example/news.xml"
    # lastmod alone dates an ordinary entry; the old and the undated one are skipped
    assert second.url == "https://publisher.example/news/lastmod-only"
    assert second.published_at == datetime(2026, 11, 30, tzinfo=UTC)
    assert second.title is None
    assert sitemap.skipped == 3


def test_window_and_cap_keep_the_newest() -> None:
    sitemap = parse_sitemap(
        (DATA / "news.xml").read_bytes(),
        url="https://publisher.example/news.xml",
        content_type=None,
        limits=limits(max_entries=1, window=30 * 86_400.0),
    )
    assert [e.url for e in sitemap.entries] == ["https://publisher.example/news/council-vote"]
    assert sitemap.skipped == 4


def test_index_children_within_the_window_newest_first_undated_last() -> None:
    sitemap = parse_sitemap(
        (DATA / "index.xml").read_bytes(),
        url="https://publisher.example/index.xml",
        content_type=None,
        limits=limits(),
    )
    assert sitemap.kind == "sitemapindex"
    assert sitemap.children == (
        "https://publisher.example/sitemap-today.xml",
        "https://publisher.example/sitemap-yesterday.xml",
        "https://publisher.example/sitemap-undated.xml",
    )
    capped = parse_sitemap(
        (DATA / "index.xml").read_bytes(),
        url="https://publisher.example/index.xml",
        content_type=None,
        limits=limits(max_children=1),
    )
    assert capped.children == ("https://publisher.example/sitemap-today.xml",)
    assert capped.skipped == 3


def test_sitemap_without_namespace_still_reads() -> None:
    body = (
        b"<urlset><url><loc>https://a.example/x</loc><lastmod>2026-12-01</lastmod></url></urlset>"
    )
    sitemap = parse_sitemap(body, url="https://a.example/s.xml", content_type=None, limits=limits())
    assert [e.url for e in sitemap.entries] == ["https://a.example/x"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaa">]><urlset>&a;</urlset>',
            Reason.HOSTILE_CONTENT,
        ),
        (b"<urlset>" + b"<url><loc>https://a.example/</loc></url>" * 40_000, Reason.TOO_LARGE),
        (b"<rss version='2.0'><channel/></rss>", Reason.NOT_A_FEED),
        (b"not xml at all", Reason.NOT_A_FEED),
    ],
)
def test_hostile_or_wrong_documents_are_refused(body: bytes, reason: Reason) -> None:
    with pytest.raises(PermanentError) as caught:
        parse_sitemap(body, url="https://a.example/s.xml", content_type=None, limits=limits())
    assert caught.value.reason is reason


def test_a_compressed_body_is_not_decompressed_here() -> None:
    # Decompression is the fetcher's (Content-Encoding, capped); a gzip file as the body
    # is no XML document.
    body = gzip.compress(b"<urlset/>")
    with pytest.raises(PermanentError) as caught:
        parse_sitemap(body, url="https://a.example/s.xml.gz", content_type=None, limits=limits())
    assert caught.value.reason is Reason.NOT_A_FEED
