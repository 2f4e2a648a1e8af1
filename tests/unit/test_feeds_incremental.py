"""Skipping the items already met gives exactly the entries a parse of the whole document does.

For every corpus feed, the document is parsed once (its memory kept), then changed the way
feeds change — a new item and a new build date, an edited story (same id, other bytes), an
item gone, the feed renamed — and also mutated at random; each changed document is parsed
with the memory and without it, and the two must agree: the entries parsed are the whole
parse's entries of the items not skipped, each skipped item's entry is the one it gave
before, and the new memory is the same either way.
"""

from __future__ import annotations

import copy

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from service.errors import PermanentError
from service.feeds import parse_feed, parse_feed_update, xmltree
from service.feeds.decode import to_utf8
from service.feeds.memory import EMPTY, FeedMemory, FeedUpdate, id_hash
from service.models import FeedEntry
from tests.conftest import corpus_dir
from tests.support.mutation import mutated

URL = "https://feeds.example.com/feed"
MAX = 25  # items kept: enough to compare, few enough to keep the big feeds quick
FEEDS = sorted(p for p in corpus_dir("feeds").iterdir() if p.suffix != ".tsv")
_DATES = ("lastbuilddate", "updated", "pubdate", "date", "modified")
_TITLES = ("title", "guid", "id", "link")


def update(content: bytes, memory: FeedMemory = EMPTY) -> FeedUpdate | str:
    try:
        return parse_feed_update(content, url=URL, memory=memory, max_items=MAX)
    except PermanentError as exc:
        return exc.reason.value


def check_agrees(content: bytes, before: FeedUpdate) -> FeedUpdate | None:
    """``content`` parsed with ``before``'s memory agrees with a parse of the whole."""
    whole, skipping = update(content), update(content, before.memory)
    if isinstance(whole, str) or isinstance(skipping, str):
        assert whole == skipping
        return None
    assert skipping.feed.model_copy(update={"entries": ()}) == whole.feed.model_copy(
        update={"entries": ()}
    )
    parsed = {e.entry_id for e in skipping.feed.entries}
    assert skipping.feed.entries == tuple(e for e in whole.feed.entries if e.entry_id in parsed)
    earlier: dict[str, FeedEntry] = {e.entry_id: e for e in before.feed.entries}
    skipped = {k.entry for k in skipping.unchanged}
    for entry in whole.feed.entries:
        if entry.entry_id not in parsed:
            assert id_hash(entry.entry_id) in skipped
            assert entry == earlier[entry.entry_id]
    assert skipping.entries_total == len(whole.feed.entries)
    assert skipping.memory == whole.memory
    return skipping


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname).lower() if isinstance(element.tag, str) else ""


def changes(document: bytes) -> dict[str, bytes]:
    """The document (well-formed, as feedparser gets it) changed as feeds change."""
    out: dict[str, bytes] = {}
    for name in ("same", "new_item", "edited", "dropped", "renamed"):
        tree = xmltree.repair(document, max_items=MAX)
        items = tree.items
        if name == "new_item" and items:
            fresh = copy.deepcopy(items[0])
            for element in fresh.iter(tag=etree.Element):
                if _local(element) in _TITLES:
                    element.text = (element.text or "") + "-new"
                for key in [k for k in element.attrib if k in ("href", "about") or "}" in k]:
                    element.attrib[key] += "-new"
            items[0].addprevious(fresh)
            _set_first(tree.containers, _DATES, "Tue, 01 Dec 2026 20:00:00 GMT")
        elif name == "edited" and len(items) > 1:
            _set_first([items[1]], ("title", "description", "summary", "content"), " edited")
        elif name == "dropped" and items:
            xmltree.drop(items[-1:])
        elif name == "renamed":
            _set_first(tree.containers, ("title",), " (renamed)")
        out[name] = etree.tostring(tree.root.getroottree(), encoding="utf-8")
    return out


def _set_first(parents: list[etree._Element], names: tuple[str, ...], text: str) -> None:
    for parent in parents:
        for child in parent.iterchildren(tag=etree.Element):
            if _local(child) in names and not len(child):
                child.text = text if text[0].isalnum() else (child.text or "") + text
                return


def json_changes(document: bytes) -> dict[str, bytes]:
    feed = orjson.loads(document.removeprefix(b"\xef\xbb\xbf"))
    items = [i for i in feed.get("items", []) if isinstance(i, dict)]
    out = {"same": document}
    if items:
        fresh = {**items[0], "id": f"{items[0].get('id')}-new", "url": "https://example.com/n"}
        out["new_item"] = orjson.dumps({**feed, "items": [fresh, *items]})
        out["edited"] = orjson.dumps(
            {**feed, "items": [{**items[0], "title": "edited"}, *items[1:]]}
        )
        out["dropped"] = orjson.dumps({**feed, "items": items[:-1]})
    out["renamed"] = orjson.dumps({**feed, "title": "renamed"})
    return out


@pytest.mark.parametrize("path", FEEDS, ids=[p.name for p in FEEDS])
def test_skipping_agrees_with_the_whole_parse_on_the_corpus(path: object) -> None:
    content = path.read_bytes()  # type: ignore[attr-defined]
    if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        documents = json_changes(content)
    else:
        try:
            documents = changes(xmltree.prepare(to_utf8(content, None), max_items=MAX))
        except PermanentError:
            pytest.skip(
                "not a feed: parse_feed refuses it (test_feeds_corpus)"
            )  # not a skip of a feature
    before = update(documents["same"])
    if isinstance(before, str):
        return  # refused either way: test_feeds_corpus checks the reason
    for name, document in documents.items():
        skipping = check_agrees(document, before)
        assert skipping is not None, name
        if name in ("same", "new_item"):  # not vacuous: every item met before is skipped
            pushed_out = name == "new_item" and len(before.memory.items) == MAX  # the oldest
            assert len(skipping.unchanged) >= len(before.feed.entries) - pushed_out, name
        if name == "same":
            assert not skipping.feed.entries


SEEDS = sorted((p.read_bytes() for p in FEEDS), key=len)[:40]
PROFILE = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_SEED_UPDATES: dict[bytes, FeedUpdate | str] = {}


@PROFILE
@given(mutated(SEEDS, [b"<", b"&", b"]]>", b"</item>", b"<item>", b"</entry>", b"xml:base="]))
def test_skipping_agrees_on_mutated_documents(content: bytes) -> None:
    for seed in SEEDS:
        if seed not in _SEED_UPDATES:
            _SEED_UPDATES[seed] = update(seed)
        before = _SEED_UPDATES[seed]
        if not isinstance(before, str) and abs(len(seed) - len(content)) < 4096:
            check_agrees(content, before)
            return


def test_memory_round_trips_and_bad_memory_is_ignored() -> None:
    content = FEEDS[0].read_bytes()
    first = parse_feed_update(content, url=URL)
    assert FeedMemory.loads(first.memory.dumps()) == first.memory
    for bad in (b"", b"{", b"[]", b'{"v": 99}', b'{"v": 1, "items": 3}'):
        assert FeedMemory.loads(bad) == EMPTY
    assert parse_feed_update(content, url=URL, memory=EMPTY).feed == parse_feed(content, url=URL)


def test_an_edited_story_is_parsed_again_with_its_id() -> None:
    def rss(title: str) -> bytes:
        return (
            "<rss version='2.0'><channel><title>T</title>"
            f"<item><guid>https://e.com/a</guid><title>{title}</title><link>https://e.com/a</link></item>"
            "<item><guid>https://e.com/b</guid><title>B</title><link>https://e.com/b</link></item>"
            "</channel></rss>"
        ).encode()

    before = parse_feed_update(rss("A"), url=URL)
    after = parse_feed_update(rss("A, corrected"), url=URL, memory=before.memory)
    assert [e.entry_id for e in after.feed.entries] == ["https://e.com/a"]
    assert after.feed.entries[0].title == "A, corrected"
    assert after.feed.entries[0].fingerprint() != before.feed.entries[0].fingerprint()
    assert len(after.unchanged) == 1
