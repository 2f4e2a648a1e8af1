"""One decision on a page's encoding: the fetcher's (``detect_encoding``), used by extraction."""

from __future__ import annotations

from datetime import UTC, datetime

from service.extraction import extract_article
from service.extraction.html import decode_html
from service.feeds import parse_feed
from service.fetching import detect_encoding
from service.models import FetchedPage

URL = "https://news.example/a"
STORY = "Правительство объявило о новых мерах поддержки экономики страны. " * 8  # noqa: RUF001
PAGE = f"<html><head><title>t</title></head><body><article><p>{STORY}</p></article></body></html>"


def test_valid_utf8_declared_as_any_legacy_charset_is_utf8() -> None:
    """Before, the fetcher kept windows-1251 (only Western labels were overridden) while
    extraction read the page as UTF-8 again: the two disagreed on the same page."""
    content = PAGE.encode()
    assert detect_encoding(content, "text/html; charset=windows-1251") == "utf-8"
    assert detect_encoding(content, "text/html; charset=koi8-r") == "utf-8"


def test_extraction_decodes_with_the_fetchers_encoding() -> None:
    content = PAGE.encode("cp1251")
    encoding = detect_encoding(content, "text/html; charset=windows-1251")
    assert encoding == "cp1251"
    assert decode_html(content, encoding) == PAGE
    page = FetchedPage(
        requested_url=URL,
        url=URL,
        content=content,
        encoding=encoding,
        fetched_at=datetime(2024, 5, 3, tzinfo=UTC),
    )
    assert STORY.split(".")[0] in extract_article(page, min_text_chars=50).text


def test_byte_order_mark_is_no_character_of_the_page() -> None:
    assert decode_html(b"\xef\xbb\xbf<p>x</p>", None) == "<p>x</p>"


def test_feed_without_a_declaration_is_read_in_the_fetchers_encoding() -> None:
    """Before, the feed decoder guessed again (UTF-8, then windows-1252) and read a
    windows-1251 feed the fetcher had detected as mojibake."""
    title = "Правительство объявило о новых мерах поддержки экономики"  # noqa: RUF001
    body = f'<rss version="2.0"><channel><title>T</title><item><title>{title}</title>'
    content = (body + "<link>https://news.example/a</link></item></channel></rss>").encode("cp1251")
    encoding = detect_encoding(content, "application/rss+xml", kind="feed")
    assert encoding == "cp1251"
    feed = parse_feed(content, url=URL, content_type="application/rss+xml", encoding=encoding)
    assert feed.entries[0].title == title
