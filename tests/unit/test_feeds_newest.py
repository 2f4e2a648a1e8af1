"""A feed longer than ``max_items`` keeps its newest items, whatever order it lists them in."""

from __future__ import annotations

from email.utils import formatdate

import orjson

from service.feeds import parse_feed

URL = "https://feeds.example.com/feed"
START = 1_700_000_000


def rss(order: list[int], *, dated: bool = True) -> bytes:
    items = "".join(
        f"<item><guid>https://e.com/{k}</guid><title>Story {k}</title>"
        + (f"<pubDate>{formatdate(START + 3600 * k, usegmt=True)}</pubDate>" if dated else "")
        + "</item>"
        for k in order
    )
    return f"<rss version='2.0'><channel><title>T</title>{items}</channel></rss>".encode()


def ids(content: bytes, max_items: int) -> list[str]:
    return [
        e.entry_id.rsplit("/", 1)[-1]
        for e in parse_feed(content, url=URL, max_items=max_items).entries
    ]


def test_a_feed_listing_oldest_first_shows_its_new_items() -> None:
    assert ids(rss(list(range(10))), 3) == ["7", "8", "9"]  # document order kept


def test_a_feed_listing_newest_first_is_cut_as_before() -> None:
    assert ids(rss(list(range(9, -1, -1))), 3) == ["9", "8", "7"]


def test_mixed_order_keeps_the_newest_by_date() -> None:
    assert ids(rss([4, 0, 9, 2, 7, 5]), 3) == ["9", "7", "5"]


def test_without_dates_the_first_items_in_document_order_are_kept() -> None:
    assert ids(rss(list(range(10)), dated=False), 3) == ["0", "1", "2"]


def test_atom_entries_by_updated_date_when_not_published() -> None:
    entries = "".join(
        f"<entry><id>https://e.com/{k}</id><title>S{k}</title>"
        f"<updated>2024-05-0{k + 1}T08:00:00Z</updated></entry>"
        for k in range(6)
    )
    feed = f"<feed xmlns='http://www.w3.org/2005/Atom'><title>T</title>{entries}</feed>"
    assert ids(feed.encode(), 2) == ["4", "5"]


def test_json_feed_keeps_its_newest_items() -> None:
    items = [
        {
            "id": f"https://e.com/{k}",
            "title": f"S{k}",
            "date_published": f"2024-05-0{k + 1}T08:00:00Z",
        }
        for k in range(6)
    ]
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": items}
    assert ids(orjson.dumps(document), 2) == ["4", "5"]
