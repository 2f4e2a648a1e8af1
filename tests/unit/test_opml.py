"""OPML import/export and plain-text feed lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.errors import PermanentError, Reason
from service.opml import parse_opml, read_feed_list, render_opml
from service.urls import is_http_url

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "feeds.opml"

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="News">
      <outline text="World" title="World news">
        <outline type="rss" text="BBC" title="BBC News" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>
        <outline type="rss" text="Guardian" xmlUrl=" https://www.theguardian.com/world/rss "/>
      </outline>
      <outline type="rss" text="NPR" xmlurl="https://feeds.npr.org/1001/rss.xml"/>
    </outline>
    <outline text="Tech">
      <outline type="rss" text="Ars" xmlUrl="https://feeds.arstechnica.com/arstechnica/index"/>
      <outline type="rss" text="BBC again" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>
      <outline type="rss" text="Local file" xmlUrl="file:///etc/passwd"/>
      <outline type="rss" text="Script" xmlUrl="javascript:alert(1)"/>
      <outline type="rss" text="Relative" xmlUrl="/feed.xml"/>
      <outline type="link" text="A web page" url="https://example.com/"/>
      <outline type="rss" text="  Spaced \t title " xmlUrl="http://example.org/feed"/>
    </outline>
  </body>
</opml>
"""


def test_nested_outlines_in_document_order() -> None:
    assert parse_opml(NESTED) == [
        ("https://feeds.bbci.co.uk/news/rss.xml", "BBC News"),
        ("https://www.theguardian.com/world/rss", "Guardian"),
        ("https://feeds.npr.org/1001/rss.xml", "NPR"),
        ("https://feeds.arstechnica.com/arstechnica/index", "Ars"),
        ("http://example.org/feed", "Spaced title"),
    ]


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE opml [<!ENTITY x "xxxxxxxxxx">]>',
        '<!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE opml [<!ENTITY a "a"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    ],
)
def test_entities_refused(doctype: str) -> None:
    content = (
        f'<?xml version="1.0"?>{doctype}<opml version="2.0"><body>'
        '<outline text="&x;" xmlUrl="https://example.com/feed"/></body></opml>'
    ).encode()
    with pytest.raises(PermanentError) as error:
        parse_opml(content)
    assert error.value.reason is Reason.HOSTILE_CONTENT


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<opml><body><outline", Reason.PARSE_ERROR),
        (b"<rss version='2.0'><channel/></rss>", Reason.NOT_A_FEED),
        (b"<opml>" + b" " * 200, Reason.TOO_LARGE),
    ],
)
def test_bad_documents(content: bytes, reason: Reason) -> None:
    with pytest.raises(PermanentError) as error:
        parse_opml(content, max_bytes=100)
    assert error.value.reason is reason


def test_round_trip() -> None:
    feeds = [
        ("https://a.example.com/feed", "A & B <News>"),
        ("https://b.example.com/rss?x=1&y=2", None),
        ("http://c.example.com/atom", "Ünïcode — “quotes”"),
    ]
    rendered = render_opml(feeds, title="Mine")
    assert rendered.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b"<title>Mine</title>" in rendered
    assert parse_opml(rendered) == feeds
    assert read_feed_list(rendered) == feeds


def test_render_dedupes_and_drops_control_characters() -> None:
    rendered = render_opml(
        [("https://a.example.com/f", "x\x00y"), ("https://a.example.com/f", "dup")]
    )
    assert parse_opml(rendered) == [("https://a.example.com/f", "xy")]


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"https?://[a-z]{1,12}\.example\.com/[a-z0-9/?=&]{0,20}", fullmatch=True),
            st.none() | st.text(max_size=40),
        ),
        max_size=20,
    )
)
def test_round_trip_property(feeds: list[tuple[str, str | None]]) -> None:
    parsed = parse_opml(render_opml(feeds))
    assert [url for url, _ in parsed] == list(dict.fromkeys(url for url, _ in feeds))
    for _url, title in parsed:
        assert title is None or (title == " ".join(title.split()) and title)


def test_plain_text_list() -> None:
    content = (
        b"\xef\xbb\xbf# my feeds\n"
        b"https://feeds.bbci.co.uk/news/rss.xml   BBC News\n"
        b"\n"
        b"  https://feeds.npr.org/1001/rss.xml # NPR\n"
        b"https://feeds.bbci.co.uk/news/rss.xml\n"
        b"not-a-url\n"
    )
    assert read_feed_list(content) == [
        ("https://feeds.bbci.co.uk/news/rss.xml", "BBC News"),
        ("https://feeds.npr.org/1001/rss.xml", None),
        ("not-a-url", None),  # returned as written: the caller reports it
    ]


def test_read_feed_list_detects_opml() -> None:
    assert read_feed_list(b"\n  " + NESTED)[0] == (
        "https://feeds.bbci.co.uk/news/rss.xml",
        "BBC News",
    )


def test_example_file() -> None:
    feeds = parse_opml(EXAMPLE.read_bytes())
    assert 6 <= len(feeds) <= 10
    assert all(is_http_url(url) and title for url, title in feeds)
