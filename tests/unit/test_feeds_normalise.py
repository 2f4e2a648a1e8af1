"""The normalisation rules, one at a time: dates, text, ids, dedup, caps, hints, encodings."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from service.dates import parse_date
from service.feeds import parse_feed
from service.feeds.normalise import normalise_entry
from service.feeds.raw import RawEntry, RawText
from service.feeds.text import clean_text, html_to_text, plain_to_text
from service.feeds.xmlfeed import polling_hint
from service.models import ParsedFeed
from tests.unit.test_feeds_corpus import check_feed

URL = "https://feeds.example.com/feed.xml"


def parse(content: str | bytes, **kwargs: object) -> ParsedFeed:
    data = content.encode() if isinstance(content, str) else content
    feed = parse_feed(data, url=URL, **kwargs)  # type: ignore[arg-type]
    check_feed(feed, url=URL)
    return feed


def rss(items: str, channel: str = "") -> str:
    return f'<rss version="2.0"><channel><title>T</title>{channel}{items}</channel></rss>'


# -- dates ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Wed, 01 May 2024 08:30:00 EST", datetime(2024, 5, 1, 13, 30, tzinfo=UTC)),
        ("Wed, 01 May 2024 08:30:00 +0530", datetime(2024, 5, 1, 3, 0, tzinfo=UTC)),
        ("01 May 2024 08:30 GMT", datetime(2024, 5, 1, 8, 30, tzinfo=UTC)),
        ("2024-05-01T08:30:00-07:00", datetime(2024, 5, 1, 15, 30, tzinfo=UTC)),
        ("2024-05-01T08:30:00Z", datetime(2024, 5, 1, 8, 30, tzinfo=UTC)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("May 1, 2024 8:30 PM PDT", datetime(2024, 5, 2, 3, 30, tzinfo=UTC)),
        ("1 May 2024 10:00 CEST", datetime(2024, 5, 1, 8, 0, tzinfo=UTC)),
        ("Wed, 01 May 2024 08:30:00", datetime(2024, 5, 1, 8, 30, tzinfo=UTC)),  # naive: UTC
    ],
)
def test_dates_keep_the_offset(raw: str, expected: datetime) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["May 1", "08:30", "yesterday", "", "x" * 500, "31/31/2024"])
def test_incomplete_or_bogus_dates_are_none(raw: str) -> None:
    assert parse_date(raw) is None


def test_date_falls_back_to_feedparser_struct() -> None:
    parsed = time.strptime("2024-05-01 08:30:00", "%Y-%m-%d %H:%M:%S")
    assert parse_date("Mittwoch, 1. Mai 2024", parsed) == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)


def test_absurd_years_dropped() -> None:
    assert parse_date("0001-01-01T00:00:00Z") is None
    assert parse_date("9999-01-01T00:00:00Z") is None


def test_published_falls_back_to_updated() -> None:
    entry = parse(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>1</id>'
        "<title>t</title><updated>2024-01-02T03:04:05+01:00</updated></entry></feed>"
    ).entries[0]
    assert entry.published_at == entry.updated_at == datetime(2024, 1, 2, 2, 4, 5, tzinfo=UTC)


# -- text ----------------------------------------------------------------------------------
def test_clean_text() -> None:
    assert clean_text(" a\x00b\tc\n\n d\u200b\ufeff ") == "ab c d"
    assert clean_text("\x01\x02 ") is None
    assert clean_text("one two three four", limit=9) == "one two…"


def test_html_to_text() -> None:
    html = "<p>First&nbsp;para &amp; more.</p><p>Second<br>line</p><script>x()</script>"
    assert html_to_text(html) == "First para & more. Second line"
    assert html_to_text("no markup &amp; an entity") == "no markup & an entity"
    assert html_to_text("<p>\x00broken <b>markup") == "broken markup"


def test_plain_text_double_escaping_decoded() -> None:
    assert plain_to_text("AT&amp;T &#8211; a < b") == "AT&T \u2013 a < b"


def test_titles_typed_html_are_stripped_plain_ones_kept() -> None:
    feed = parse(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        '<entry><id>1</id><title type="html">&lt;b&gt;Bold&lt;/b&gt; move</title></entry>'
        '<entry><id>2</id><title type="text">Why a &lt;b&gt; tag?</title></entry></feed>'
    )
    assert [e.title for e in feed.entries] == ["Bold move", "Why a <b> tag?"]


def test_long_summary_truncated_at_a_word() -> None:
    summary = ("word " * 1000).strip()
    entry = parse(rss(f"<item><guid>1</guid><description>{summary}</description></item>"))
    text = entry.entries[0].summary
    assert text is not None
    assert len(text) <= 2001
    assert text.endswith("word…")


# -- ids, dedup, caps ----------------------------------------------------------------------
def test_entry_id_guid_then_link_then_hash() -> None:
    feed = parse(
        rss(
            '<item><guid isPermaLink="false">g-1</guid><link>https://e.com/1</link></item>'
            "<item><link>https://e.com/2</link><title>two</title></item>"
            "<item><title>three</title><description>about three</description></item>"
            "<item><description></description></item>"
        )
    )
    ids = [e.entry_id for e in feed.entries]
    assert ids[:2] == ["g-1", "https://e.com/2"]
    assert ids[2].startswith("hash:")
    assert len(ids) == 3  # the empty item has nothing to be known by


def test_hash_id_is_stable() -> None:
    content = rss("<item><title>same</title><description>text</description></item>")
    assert parse(content).entries[0].entry_id == parse(content).entries[0].entry_id


def test_very_long_guid_is_hashed() -> None:
    entry = parse(rss(f'<item><guid isPermaLink="false">{"g" * 5000}</guid></item>')).entries[0]
    assert entry.entry_id.startswith("sha:")


def test_duplicate_ids_collapsed_first_kept() -> None:
    feed = parse(
        rss(
            '<item><guid isPermaLink="false">a</guid><title>first</title></item>'
            '<item><guid isPermaLink="false">b</guid><title>other</title></item>'
            '<item><guid isPermaLink="false">a</guid><title>second</title></item>'
        )
    )
    assert [(e.entry_id, e.title) for e in feed.entries] == [("a", "first"), ("b", "other")]


def test_max_items_keeps_document_order() -> None:
    items = "".join(f'<item><guid isPermaLink="false">{i}</guid></item>' for i in range(10))
    assert [e.entry_id for e in parse(rss(items), max_items=3).entries] == ["0", "1", "2"]
    assert parse(rss(items), max_items=0).entries == ()


def test_authors_deduped_and_inherited_only_where_the_format_says_so() -> None:
    atom = parse(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><author><name>Desk</name>'
        "</author><entry><id>1</id><title>t</title></entry>"
        "<entry><id>2</id><author><name>Kim</name></author><author><name>kim</name></author>"
        "<title>t</title></entry></feed>"
    )
    assert [e.authors for e in atom.entries] == [("Desk",), ("Kim",)]
    rss_feed = parse(
        rss(
            "<item><guid>1</guid><title>t</title></item>",
            "<managingEditor>ed@x.org</managingEditor>",
        )
    )
    assert rss_feed.entries[0].authors == ()


def test_tags_from_categories() -> None:
    entry = parse(
        rss(
            "<item><guid>1</guid><category>Politics</category><category>politics</category>"
            '<category domain="x">  Europe  </category></item>'
        )
    ).entries[0]
    assert entry.tags == ("Politics", "Europe")


def test_links_resolved_against_xml_base_and_feed_url() -> None:
    feed = parse(
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://base.example.org/dir/">'
        '<title>A</title><link href="../home"/>'
        '<entry><id>1</id><link href="post.html"/><title>t</title></entry></feed>'
    )
    assert feed.site_url == "https://base.example.org/home"
    assert feed.entries[0].url == "https://base.example.org/dir/post.html"
    plain = parse(rss("<item><guid>1</guid><link>/news/1</link></item>"))
    assert plain.entries[0].url == "https://feeds.example.com/news/1"


def test_feedburner_original_link_preferred() -> None:
    entry = parse(
        '<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">'
        "<channel><title>T</title><item><guid>1</guid>"
        "<link>https://feedproxy.google.com/~r/x/~3/abc/</link>"
        "<feedburner:origLink>https://news.example.org/story</feedburner:origLink>"
        "</item></channel></rss>"
    ).entries[0]
    assert entry.url == "https://news.example.org/story"


def test_image_from_media_thumbnail_and_itunes() -> None:
    feed = parse(
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>T</title>'
        '<item><guid>1</guid><media:content url="https://e.com/v.mp4" medium="video"/>'
        '<media:thumbnail url="https://e.com/thumb.jpg"/></item>'
        '<item><guid>2</guid><itunes:image href="https://e.com/cover.png"/></item>'
        "</channel></rss>"
    )
    assert [e.image for e in feed.entries] == ["https://e.com/thumb.jpg", "https://e.com/cover.png"]


def test_normalise_entry_without_anything_is_none() -> None:
    assert normalise_entry(RawEntry(), feed_url=URL, feed_title=None) is None
    entry = normalise_entry(RawEntry(title=RawText("x")), feed_url=URL, feed_title=None)
    assert entry is not None


# -- polling hints -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ttl", "period", "frequency", "expected"),
    [
        ("60", None, None, 3600.0),
        (None, "hourly", "4", 900.0),
        (None, "daily", None, 86400.0),
        (None, None, "2", 43200.0),  # updatePeriod defaults to daily
        ("10", "hourly", "1", 3600.0),  # both: the longer
        ("-5", None, None, None),
        ("soon", "fortnightly", "x", None),
        ("99999999", None, None, None),
    ],
)
def test_polling_hint(
    ttl: str | None, period: str | None, frequency: str | None, expected: float | None
) -> None:
    assert polling_hint(ttl, period, frequency) == expected


def test_ttl_reaches_parsed_feed() -> None:
    assert parse(rss("", "<ttl>30</ttl>")).ttl_seconds == 1800.0


# -- encodings -----------------------------------------------------------------------------
def test_header_charset_used_only_when_the_document_declares_none() -> None:
    body = rss("<item><guid>1</guid><title>Caf\xe9</title></item>").encode("latin-1")
    assert parse(body, content_type="text/xml; charset=ISO-8859-1").entries[0].title == "Café"
    declared = b'<?xml version="1.0" encoding="utf-8"?>' + rss(
        "<item><guid>1</guid><title>Café</title></item>"
    ).encode("utf-8")
    assert parse(declared, content_type="text/xml; charset=ISO-8859-1").entries[0].title == "Café"


def test_whitespace_before_xml_declaration_tolerated() -> None:
    body = (
        b'\n\n  <?xml version="1.0" encoding="utf-8"?>'
        + rss("<item><guid>1</guid></item>").encode()
    )
    assert parse(body).format == "rss20"


def test_utf32_with_bom() -> None:
    body = '<?xml version="1.0" encoding="utf-32"?>' + rss("<item><title>Ünï</title></item>")
    assert parse(body.encode("utf-32")).entries[0].title == "Ünï"


def test_mostly_utf8_with_stray_bytes_keeps_the_good_characters() -> None:
    good = "Zürich, Genève, Málaga, Kraków".encode()
    body = rss("<item><guid>1</guid><title>T</title></item>").encode()
    body = body.replace(b"<title>T", b"<title>" + good + b" \xe9t\xe9")
    title = parse(body).entries[0].title
    assert title == "Zürich, Genève, Málaga, Kraków \ufffdt\ufffd"


def test_legacy_encoding_declared_as_utf8_falls_back() -> None:
    body = rss("<item><guid>1</guid><title>Caf\xe9 cr\xe8me</title></item>").encode("cp1252")
    assert parse(body).entries[0].title == "Café crème"
