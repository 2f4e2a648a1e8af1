"""A feed or sitemap that is a gzip file (``sitemap.xml.gz`` without Content-Encoding):
inflated by the body reader within the same cap; other kinds and bodies left alone."""

from __future__ import annotations

import gzip

import pytest

from service.errors import PermanentError, Reason
from service.fetching.body import BodyReader
from service.fetching.responses import check_body_type, check_declared_type

URL = "https://news.example.com/sitemap-news.xml.gz"
SITEMAP = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
SITEMAP += b"<url><loc>https://news.example.com/a</loc></url></urlset>"


def read(body: bytes, *, chunk: int = 1000, gzip_files: bool = True, limit: int = 10_000) -> bytes:
    reader = BodyReader(limit=limit, content_encoding=None, url=URL, gzip_files=gzip_files)
    for start in range(0, len(body), chunk):
        reader.feed(body[start : start + chunk])
    return reader.finish()


@pytest.mark.parametrize("chunk", [1, 2, 3, 1000])
def test_a_gzip_file_is_inflated_whatever_the_chunks(chunk: int) -> None:
    assert read(gzip.compress(SITEMAP), chunk=chunk) == SITEMAP


def test_a_plain_body_is_read_as_it_is() -> None:
    assert read(SITEMAP, chunk=1) == SITEMAP
    assert read(b"<") == b"<"  # shorter than the gzip magic


def test_pages_and_robots_are_never_inflated_this_way() -> None:
    data = gzip.compress(SITEMAP)
    assert read(data, gzip_files=False) == data


def test_a_gzip_file_bomb_is_refused_after_the_cap() -> None:
    bomb = gzip.compress(bytes(50_000_000), 9)  # 50 MB of zeros in ~50 KB
    with pytest.raises(PermanentError) as caught:
        read(bomb, chunk=16_384, limit=100_000)
    assert caught.value.reason is Reason.TOO_LARGE
    assert "after decompression" in caught.value.detail


def test_a_corrupt_gzip_file_is_a_parse_error() -> None:
    with pytest.raises(PermanentError) as caught:
        read(b"\x1f\x8b" + bytes(40))
    assert caught.value.reason is Reason.PARSE_ERROR


def test_a_gzip_type_is_a_feed_until_its_inflated_body_says_otherwise() -> None:
    check_declared_type("feed", "application/x-gzip", URL)  # not refused before reading
    check_body_type("feed", "application/gzip", SITEMAP, URL)  # XML once inflated: kept
    with pytest.raises(PermanentError) as caught:
        check_body_type("feed", "application/gzip", b"\x89PNG\r\n\x1a\n", URL)
    assert caught.value.reason is Reason.NOT_A_FEED
    with pytest.raises(PermanentError) as caught:
        check_declared_type("page", "application/gzip", URL)
    assert caught.value.reason is Reason.NOT_HTML
