"""Items found in a feed's bytes are exactly the items the repaired tree lists, in its order.

For every corpus feed (as feedparser gets it: well-formed), the spans name the same items
as ``xmltree.repair``: cutting span *i* out of the bytes leaves the tree's items but item
*i*, and each span is that item's own bytes. Documents the bytes cannot vouch for are left
to the tree (``None``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
from lxml import etree

from service.errors import PermanentError
from service.feeds import itemspans, xmltree
from service.feeds.decode import to_utf8
from tests.conftest import corpus_dir

FEEDS = sorted(p for p in corpus_dir("feeds").iterdir() if p.suffix != ".tsv")
LIMIT = 50_000


def find(data: bytes, max_elements: int = LIMIT) -> itemspans.ItemSpans | None:
    return itemspans.find_items(
        data,
        item_tags=xmltree.ITEM_TAGS,
        channel_tags=xmltree.CHANNEL_TAGS,
        max_elements=max_elements,
    )


def tree_items(data: bytes) -> list[bytes]:
    return [xmltree.item_bytes(i) for i in xmltree.repair(data, max_items=10**6).items]


def _xml_documents() -> list[tuple[str, bytes]]:
    out = []
    for path in FEEDS:
        content = path.read_bytes()
        if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
            continue  # JSON Feed: no XML items
        try:
            out.append((path.name, xmltree.prepare(to_utf8(content, None), max_items=10**6)))
        except PermanentError:
            continue  # refused by parse_feed (test_feeds_corpus checks why)
    return out


DOCUMENTS = _xml_documents()


def test_the_corpus_gives_enough_feeds() -> None:
    assert len(DOCUMENTS) >= 40


@pytest.mark.parametrize(("name", "data"), DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_spans_are_the_trees_items(name: str, data: bytes) -> None:
    found = find(data)
    assert found is not None, name
    items = tree_items(data)
    assert len(found.spans) == len(items)
    for index in sorted({0, len(items) // 2, len(items) - 1} & set(range(len(items)))):
        start, end = found.spans[index]
        assert data[start : start + 1] == b"<"
        assert data[end - 1 : end] == b">"
        assert tree_items(found.without(data, [index])) == items[:index] + items[index + 1 :]
        assert _local(data[start:end]) == _local(items[index])
    assert tree_items(found.without(data, range(len(items)))) == []


def _local(item: bytes) -> str:
    name = item[1:].split(b">", 1)[0].split(None, 1)[0].rstrip(b"/")
    return name.rsplit(b":", 1)[-1].decode()


def rss(body: str, *, root: str = '<rss version="2.0">', tail: str = "</rss>") -> bytes:
    channel = f"<channel><title>T</title>{body}</channel>"
    return f'<?xml version="1.0" encoding="utf-8"?>{root}{channel}{tail}'.encode()


def as_lxml_writes(span: bytes) -> bytes:
    return xmltree.item_bytes(etree.fromstring(span))


def test_markup_quoted_in_cdata_and_comments_is_text() -> None:
    data = rss(
        "<item><title>a</title><description><![CDATA[<item>not one</item></item>]]>"
        "</description></item><!-- </item><item> --><item><title>b</title></item>"
    )
    found = find(data)
    assert found is not None
    assert [as_lxml_writes(data[a:b]) for a, b in found.spans] == tree_items(data)
    assert len(found.spans) == 2


def test_rss_10_items_follow_the_channel_in_the_trees_order() -> None:
    data = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/"><channel><title>T</title><items/></channel>'
        b"<item><title>a</title></item><item><title>b</title></item></rdf:RDF>"
    )
    found = find(data)
    assert found is not None
    assert titles(data[a:b] for a, b in found.spans) == titles(tree_items(data)) == [b"a", b"b"]


def titles(items: Iterable[bytes]) -> list[bytes]:
    return [re.findall(rb"<title>(.*?)</title>", item)[0] for item in items]


def test_items_of_the_root_come_before_those_of_its_channel() -> None:
    root_item = "<item><title>root</title></item>"
    data = rss("<item><title>in channel</title></item>", tail=f"{root_item}</rss>")
    found = find(data)
    assert found is not None
    spans = [data[a:b] for a, b in found.spans]
    assert titles(spans) == titles(tree_items(data)) == [b"root", b"in channel"]


def test_the_head_holds_what_items_read_within_and_not_the_channels_metadata() -> None:
    first = rss("<item><title>a</title></item>", root='<rss version="2.0" xml:base="https://a/">')
    other = rss("<item><title>a</title></item>", root='<rss version="2.0" xml:base="https://b/">')
    renamed = first.replace(b"<title>T</title>", b"<title>U</title>")
    heads = [found.head for found in map(find, (first, other, renamed)) if found is not None]
    assert len(heads) == 3
    assert heads[0] != heads[1]  # another xml:base: every item reads otherwise
    assert heads[0] == heads[2]  # the channel's title is its metadata, checked elsewhere
    assert b'xml:base="https://a/"' in heads[0]
    assert b"<channel>" in heads[0]


@pytest.mark.parametrize(
    "data",
    [
        rss("<item><title>a</title>"),  # not well-formed
        rss("<item><title>caf&eacute;</title></item>"),  # an HTML entity: libxml2 repairs it
        rss("<item><dc:creator>x</dc:creator></item>"),  # an unbound prefix
        rss("<item/><item><title>b</title></item>"),  # an empty item
        rss("<item><title>a</title></item><item/>"),  # one just before </channel>
        b'<rss version="2.0"><channel/></rss>',  # a channel with nothing in it
    ],
    ids=["malformed", "html-entity", "unbound-prefix", "empty-item", "empty-last", "empty-channel"],
)
def test_documents_the_bytes_cannot_vouch_for_are_left_to_the_tree(data: bytes) -> None:
    assert find(data) is None


def test_the_element_bound_stops_the_pass() -> None:
    data = rss("<item><title>a</title>" + "<x/>" * 200 + "</item>")
    assert find(data, max_elements=100) is None
    found = find(data, max_elements=1000)
    assert found is not None
    assert len(found.spans) == 1


NESTED = (
    "<item><title>a</title><x><item><title>inner</title></item></x></item>"
    "<item><title>b</title></item>"
)


def test_an_item_holding_an_element_of_its_name_is_left_to_the_tree() -> None:
    """Inside items only end tags are heard: the nested ``</item>`` would end the outer
    item early, so the bytes cannot vouch for it."""
    assert find(rss(NESTED)) is None


def test_element_by_element_when_the_document_may_hold_more_elements_than_the_bound() -> None:
    """Many ``<`` (here quoted in CDATA): every element is counted, nesting is followed."""
    quoted = "<description><![CDATA[" + "<b>x</b>" * 40 + "]]></description>"
    data = rss(NESTED.replace("<title>b</title>", "<title>b</title>" + quoted))
    assert data.count(b"<") > 60
    found = find(data, max_elements=60)
    assert found is not None
    assert [as_lxml_writes(data[a:b]) for a, b in found.spans] == tree_items(data)
    assert len(found.spans) == 2
