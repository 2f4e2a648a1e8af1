"""Every feed of ``tests/data/corpus/feeds`` through ``parse_feed``, checked against INDEX.tsv.

Decisions the assertions encode:
- the corpus' HTML pages served as feeds are refused with ``NOT_A_FEED``;
- RSS/Atom files yield feedparser's entries (INDEX ``feedparser_entries``), less the later
  copies of duplicate ids (INDEX ``dup-ids:N``) and less items with no id, link, title or
  summary at all (nothing to identify them by: counted here with feedparser itself);
- broken-but-readable XML (truncated, undefined entities, bad encodings: bozo=1) yields what
  could be read, under the same rule;
- JSON Feeds yield their items, counted from the JSON.
"""

from __future__ import annotations

import csv
import io
import json
import re

import feedparser
import lxml.html
import pytest
from lxml import etree

from service.errors import PermanentError, Reason
from service.feeds import parse_feed
from service.models import ParsedFeed
from service.urls import is_http_url
from tests.conftest import corpus_dir

FEEDS = corpus_dir("feeds")
with (FEEDS / "INDEX.tsv").open(encoding="utf-8", newline="") as index:
    ROWS = list(csv.DictReader(index, delimiter="\t"))
URL = "https://feeds.example.com/feed"

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_UNSAFE_ELEMENTS = frozenset({"script", "iframe", "object", "embed", "form", "svg", "style"})
_URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "poster", "cite"})


def check_html(markup: str) -> None:
    """Sanitised content: no unsafe elements, no handlers, only absolute http(s) URLs."""
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    for element in root.iter(tag=etree.Element):
        assert str(element.tag).lower() not in _UNSAFE_ELEMENTS, markup[:300]
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (name, value)
            assert name.lower() not in ("style", "class", "id"), (name, value)
            if name.lower() in _URL_ATTRIBUTES:
                assert is_http_url(value), (name, value)
            if name.lower() == "srcset":  # "url [descriptor], url [descriptor] …"
                for candidate in value.split(","):
                    assert is_http_url(candidate.split()[0]), (name, value)


def check_feed(feed: ParsedFeed, *, url: str) -> None:
    """Invariants every parsed feed must hold, whatever the input."""
    assert feed.url == url
    assert feed.format
    assert feed.site_url is None or is_http_url(feed.site_url)
    assert feed.ttl_seconds is None or feed.ttl_seconds > 0
    ids = [entry.entry_id for entry in feed.entries]
    assert len(ids) == len(set(ids)), "duplicate ids survived"
    for entry in feed.entries:
        assert entry.entry_id
        assert entry.entry_id == entry.entry_id.strip()
        assert len(entry.entry_id) <= 512
        assert entry.url is None or is_http_url(entry.url)
        assert entry.image is None or is_http_url(entry.image)
        for text in (entry.title, entry.summary, entry.feed_title, *entry.authors, *entry.tags):
            assert text is None or (text and text == " ".join(text.split())), repr(text)
            assert text is None or not _CONTROL.search(text), repr(text)
        for date in (entry.published_at, entry.updated_at):
            assert date is None or (date.utcoffset() is not None and not date.utcoffset())
        if entry.content_html is not None:
            check_html(entry.content_html)


def _dup_ids(row: dict[str, str]) -> int:
    match = re.search(r"dup-ids:(\d+)", row["features"])
    return int(match.group(1)) if match else 0


def _anonymous_entries(content: bytes) -> int:
    """Entries feedparser reads with no id, link, title or summary."""
    parsed = feedparser.parse(io.BytesIO(content), sanitize_html=False, resolve_relative_uris=False)
    keys = ("id", "link", "title", "summary")
    return sum(1 for e in parsed.entries if not any(dict.get(e, k) for k in keys))


def _json_items(content: bytes) -> int:
    items = json.loads(content)["items"]
    return len({str(item["id"]) for item in items if isinstance(item, dict) and "id" in item})


def test_index_lists_every_file() -> None:
    on_disk = {p.name for p in FEEDS.iterdir() if p.name != "INDEX.tsv"}
    assert on_disk == {row["filename"] for row in ROWS}
    assert len(ROWS) >= 70


@pytest.mark.parametrize("row", ROWS, ids=[row["filename"] for row in ROWS])
def test_corpus_feed(row: dict[str, str]) -> None:
    content = (FEEDS / row["filename"]).read_bytes()
    if row["format"] == "html":
        with pytest.raises(PermanentError) as refused:
            parse_feed_(content)
        assert refused.value.reason is Reason.NOT_A_FEED
        return
    feed = parse_feed_(content)
    check_feed(feed, url=URL)
    if row["format"].startswith("json"):
        assert feed.format == "jsonfeed" + row["format"].removeprefix("json").replace(".", "")
        assert len(feed.entries) == _json_items(content) == int(row["item_count"])
        return
    assert feed.format == row["feedparser_version"]
    expected = int(row["feedparser_entries"]) - _dup_ids(row) - _anonymous_entries(content)
    assert len(feed.entries) == expected


def parse_feed_(content: bytes) -> ParsedFeed:
    return parse_feed(content, url=URL)


def test_corpus_overall() -> None:
    """The whole corpus: what is read, what is refused and why."""
    refused: dict[str, Reason] = {}
    entries = 0
    for row in ROWS:
        try:
            entries += len(parse_feed_((FEEDS / row["filename"]).read_bytes()).entries)
        except PermanentError as exc:
            refused[row["filename"]] = exc.reason
    html = {row["filename"] for row in ROWS if row["format"] == "html"}
    assert refused == dict.fromkeys(html, Reason.NOT_A_FEED)
    assert len(html) == 3
    assert entries > 1100
