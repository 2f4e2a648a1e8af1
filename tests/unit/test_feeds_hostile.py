"""Hostile and broken input: refused with a reason, in bounded time, never fetching anything."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from service.addresses import AddressGuard
from service.errors import PermanentError, Reason
from service.feeds import parse_feed, xmlfeed
from service.feeds.normalise import MAX_SUMMARY_LENGTH
from service.models import ParsedFeed
from tests.unit.test_feeds_corpus import check_feed

URL = "https://feeds.example.com/feed"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def feedparser_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusal must happen before feedparser sees the bytes."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("feedparser was called")

    monkeypatch.setattr(xmlfeed.feedparser, "parse", refuse)


def parse(content: bytes, **kwargs: object) -> ParsedFeed:
    feed = parse_feed(content, url=URL, **kwargs)  # type: ignore[arg-type]
    check_feed(feed, url=URL)
    return feed


def refused(content: bytes, **kwargs: object) -> Reason:
    with pytest.raises(PermanentError) as error:
        parse_feed(content, url=URL, **kwargs)  # type: ignore[arg-type]
    return error.value.reason


def timed(function: Callable[[], object]) -> float:
    """CPU seconds ``function`` took in this thread: a parse is CPU-bound, and unlike wall
    time this does not grow when other processes share the machine's cores."""
    start = time.thread_time()
    function()
    return time.thread_time() - start


def rss(items: str, *, prologue: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    return f'{prologue}<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'


def item(title: str, link: str = "https://example.com/a", extra: str = "") -> str:
    return f"<item><title>{title}</title><link>{link}</link>{extra}</item>"


QUADRATIC = rss(
    item("&a;" * 20_000),
    prologue=f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"x" * 50_000}">]>',
)
_LOLS = ["lol", *(f"lol{i}" for i in range(1, 10))]
BILLION_LAUGHS = rss(
    item("&lol9;"),
    prologue='<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY {name} "{f"&{previous};" * 10}">' for previous, name in pairwise(_LOLS))
    + "]>",
)


# -- entity declarations -------------------------------------------------------------------
@pytest.mark.usefixtures("feedparser_forbidden")
def test_quadratic_blowup_refused_fast() -> None:
    content = QUADRATIC.encode()
    assert 100_000 < len(content) < 120_000
    assert timed(lambda: refused(content)) < 1.0
    assert refused(content) is Reason.HOSTILE_CONTENT


@pytest.mark.usefixtures("feedparser_forbidden")
def test_billion_laughs_refused() -> None:
    assert "&lol8;&lol8;" in BILLION_LAUGHS
    assert refused(BILLION_LAUGHS.encode()) is Reason.HOSTILE_CONTENT


@pytest.mark.usefixtures("feedparser_forbidden")
@pytest.mark.parametrize(
    "declaration",
    [
        '<!ENTITY x SYSTEM "file:///etc/passwd">',
        '<!ENTITY % x SYSTEM "http://127.0.0.1:1/evil.dtd"> %x;',
        '<!ATTLIST rss version CDATA "2.0">',  # an internal subset, even without entities
    ],
)
def test_internal_subsets_refused(declaration: str) -> None:
    content = rss(item("&x;"), prologue=f"<!DOCTYPE rss [{declaration}]>")
    assert refused(content.encode()) is Reason.HOSTILE_CONTENT


@pytest.mark.usefixtures("feedparser_forbidden")
@pytest.mark.parametrize(
    ("encoding", "declared"),
    [("utf-16", "utf-16"), ("utf-32", "utf-32"), ("utf-16-be", "utf-16be"), ("cp037", "cp037")],
)
def test_declarations_found_in_any_encoding(encoding: str, declared: str) -> None:
    prologue = f'<?xml version="1.0" encoding="{declared}"?>'
    content = QUADRATIC.replace('<?xml version="1.0"?>', prologue).encode(encoding)
    assert refused(content) is Reason.HOSTILE_CONTENT


@pytest.mark.usefixtures("feedparser_forbidden")
def test_declaration_smuggled_in_utf7_refused() -> None:
    # "+ADw-+ACE-ENTITY" is "<!ENTITY" in UTF-7: invisible to a byte scan. UTF-7 is not
    # decoded at all (no feed needs it), so the declaration never forms.
    content = (
        b'<?xml version="1.0" encoding="utf-7"?>+ADw-+ACE-DOCTYPE rss +AFs-+ADw-+ACE-ENTITY a '
        b"+ACI-aaaa+ACI-+AD4-+AF0-+AD4-<rss><channel><item><title>&a;</title></item></channel></rss>"
    )
    assert refused(content) in (Reason.HOSTILE_CONTENT, Reason.NOT_A_FEED)


@pytest.mark.parametrize("hide_doctype", [False, True])
def test_external_dtd_never_loaded(tmp_path: Path, hide_doctype: bool) -> None:
    """A DOCTYPE with only a system id is allowed (RSS 0.91 has one) and never fetched."""
    secret = "SECRET-FROM-THE-DTD"
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY secret "{secret}">', encoding="utf-8")
    comment = "<!-- <x> -->" if hide_doctype else ""  # hides the DOCTYPE from feedparser
    content = rss(
        item("before &secret; after"),
        prologue=f'<?xml version="1.0"?>{comment}<!DOCTYPE rss SYSTEM "{dtd.as_uri()}">',
    )
    feed = parse(content.encode())
    assert secret not in feed.model_dump_json()
    assert feed.entries[0].title == "before &secret; after"


def test_netscape_rss091_doctype_and_html_entities() -> None:
    content = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"\n'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>Caf\xe9</title><link>http://example.com/</link>'
        b"<item><title>Cr&egrave;me &amp; br&ucirc;l&eacute;e&nbsp;&hellip;</title>"
        b"<link>http://example.com/1</link></item></channel></rss>"
    )
    feed = parse(content)
    assert feed.format == "rss091n"
    assert feed.title == "Café"
    assert feed.entries[0].title == "Crème & brûlée …"


# -- size and bounded work -----------------------------------------------------------------
def test_50_mb_refused_fast() -> None:
    content = rss(item("x") * 10).encode() + b" " * 50_000_000
    assert timed(lambda: refused(content)) < 0.5
    assert refused(content) is Reason.TOO_LARGE


def test_max_bytes_is_a_parameter() -> None:
    content = rss(item("x")).encode()
    assert refused(content, max_bytes=len(content) - 1) is Reason.TOO_LARGE
    assert parse(content, max_bytes=len(content)).entries


def test_10000_items_capped_at_max_items() -> None:
    items = "".join(item(f"story {i}", f"https://example.com/{i}") for i in range(10_000))
    content = rss(items).encode()
    elapsed = timed(lambda: parse(content))
    feed = parse(content)
    assert [e.title for e in feed.entries] == [f"story {i}" for i in range(200)]
    assert len(parse(content, max_items=5).entries) == 5
    assert elapsed < 3.0


def test_max_items_applies_to_json_feed() -> None:
    items = ",".join(f'{{"id": "{i}", "title": "t{i}"}}' for i in range(1000))
    content = f'{{"version": "https://jsonfeed.org/version/1.1", "items": [{items}]}}'.encode()
    feed = parse(content, max_items=7)
    assert [e.entry_id for e in feed.entries] == [str(i) for i in range(7)]


@pytest.mark.parametrize(
    "garbage",
    [
        b"<a " * 3_000_000,
        b"<" * 9_000_000,
        b"&" * 9_000_000,
        b"<x/>" * 2_000_000,
        b"<!DOCTYPE '" * 800_000,
        b"<!DOCTYPE a" * 800_000 + b"[",
        b"<!-- <?x " * 1_000_000,
    ],
    ids=["open-tags", "lt", "amp", "many-elements", "doctype-quotes", "doctypes", "prolog"],
)
def test_malformed_megabytes_in_bounded_time(garbage: bytes) -> None:
    content = rss(item("x")).encode()[: -len("</channel></rss>")] + garbage
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(parse_feed(content, url=URL))
        except PermanentError as exc:
            outcome.append(exc.reason)

    assert timed(run) < 5.0
    assert outcome[0] in (Reason.HOSTILE_CONTENT, Reason.PARSE_ERROR) or isinstance(
        outcome[0], ParsedFeed
    )


@pytest.mark.parametrize("field", ["author", "managingEditor", "dc:creator"])
def test_long_metadata_values_are_cut_in_bounded_time(field: str) -> None:
    """feedparser's e-mail regex on author fields is quadratic: 200 KB took 250 s."""
    value = "a." * 100_000
    body = "<p>" + "word " * 20_000 + "</p>"
    extra = f"<{field}>{value}</{field}><description><![CDATA[{body}]]></description>"
    ns = ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    content = rss(item("t", extra=extra)).replace('version="2.0"', f'version="2.0"{ns}', 1)
    feeds: list[ParsedFeed] = []
    assert timed(lambda: feeds.append(parse(content.encode()))) < 5.0
    entry = feeds[0].entries[0]
    assert all(len(author) <= 256 for author in entry.authors)
    assert entry.summary is not None
    # content elements are not cut by the metadata caps (1,024 characters), only by the
    # summary's own length limit
    assert len(entry.summary) >= MAX_SUMMARY_LENGTH - 1


@pytest.mark.parametrize(
    "prologue",
    [b"<?" + b'encoding="a" ' * 100_000, b'<?xml encoding="' + b"a" * 1_000_000],
    ids=["declaration-regex", "long-declaration"],
)
def test_hostile_declarations_in_bounded_time(prologue: bytes) -> None:
    """feedparser's own declaration regex takes 9 s on 13 KB of the first case."""
    assert timed(lambda: refused(prologue)) < 2.0


# -- not a feed ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html>\n<html><head><title>Home</title></head><body><p>Hi</p></body></html>",
        b"\n\n<html lang=en><body><item>not a feed</item></body></html>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
        b"just some text, no markup",
        b'{"a": 1}',
        b"[1, 2, 3]",
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "no items"}',
        b'{"version": "2.0", "items": []}',
        b"",
        b"   \r\n\t ",
        b"\xef\xbb\xbf",
    ],
    ids=[
        "html",
        "html-no-doctype",
        "svg",
        "text",
        "json-object",
        "json-array",
        "jsonfeed-no-items",
        "json-not-jsonfeed",
        "empty",
        "whitespace",
        "bom-only",
    ],
)
def test_not_a_feed(content: bytes) -> None:
    assert refused(content, content_type="text/html") is Reason.NOT_A_FEED


def test_invalid_json_is_a_parse_error() -> None:
    assert refused(b'{"version": "https://jsonfeed.org/version/1.1", "items": [') is (
        Reason.PARSE_ERROR
    )


def test_deeply_nested_json_refused() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert refused(deep) is Reason.HOSTILE_CONTENT
    inside = b'{"version": "https://jsonfeed.org/version/1", "items": [' + deep + b"]}"
    assert refused(inside) is Reason.HOSTILE_CONTENT


def test_moderately_nested_extension_is_fine() -> None:
    nested = b"[" * 500 + b"]" * 500
    content = b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": "1", "_x": '
    assert len(parse(content + nested + b"}]}").entries) == 1


def test_bytes_naming_a_file_are_not_opened(tmp_path: Path) -> None:
    """feedparser opens a file whose name it is given: parse_feed must hand it bytes only."""
    path = tmp_path / "feed.xml"
    path.write_text(rss(item("from the file")), encoding="utf-8")
    assert refused(str(path).encode()) is Reason.NOT_A_FEED


def test_bytes_naming_a_url_are_not_fetched() -> None:
    assert refused(b"http://127.0.0.1:9/feed.xml") is Reason.NOT_A_FEED


# -- broken but readable -------------------------------------------------------------------
def test_truncated_feed_gives_what_could_be_read() -> None:
    content = rss(item("one", "https://e.com/1") + item("two", "https://e.com/2")).encode()
    feed = parse(content[: content.index(b"<title>two") + len("<title>tw")])
    assert [e.title for e in feed.entries] == ["one", "tw"]


def test_control_characters_and_invalid_utf8_cleaned() -> None:
    title = "Caf\xe9 na\xefve \u2014 ".encode() + b"a\x00b\x07c\x1bd \xff\xfe end"
    content = rss(item("x")).encode().replace(b"<title>x</title>", b"<title>" + title + b"</title>")
    entry = parse(content).entries[0]
    assert entry.title is not None
    assert entry.title.startswith("Café naïve — abcd")
    assert entry.title.endswith("end")
    assert "Ã" not in entry.title


def test_control_characters_in_json_feed_cleaned() -> None:
    content = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1\\u0000", '
        b'"title": "a\\u0000b\\u001bc\\u0085d", "summary": "x\\u0007y", "tags": ["t\\u0000"], '
        b'"authors": [{"name": "\\u0001Ann"}]}]}'
    )
    entry = parse(content).entries[0]
    assert (entry.entry_id, entry.title, entry.summary) == ("1", "abcd", "xy")
    assert (entry.tags, entry.authors) == (("t",), ("Ann",))


def test_invalid_utf8_in_json_feed_replaced() -> None:
    content = (
        b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": "1", "title": "a\xffb"}]}'
    )
    assert parse(content).entries[0].title == "a\ufffdb"


# -- unsafe URLs ---------------------------------------------------------------------------
UNSAFE = ["javascript:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd", "JaVaScRiPt:x"]


@pytest.mark.parametrize("unsafe", UNSAFE)
def test_unsafe_links_dropped_in_rss(unsafe: str) -> None:
    html = (
        f'<p><a href="{unsafe}">a</a><img src="{unsafe}"/><form action="{unsafe}"><input/></form>'
        f'<svg xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="{unsafe}">s</a></svg>'
        f'<a href="https://ok.example.com/">ok</a></p>'
    )
    extra = (
        f'<enclosure url="{unsafe}" type="image/png"/><description><![CDATA[{html}]]></description>'
    )
    entry = parse(rss(item("t", unsafe, extra)).encode()).entries[0]
    assert entry.url is None
    assert entry.image is None
    assert entry.content_html is None
    assert entry.summary == "a ok"


@pytest.mark.parametrize("unsafe", UNSAFE)
def test_unsafe_links_dropped_in_content_html(unsafe: str) -> None:
    html = (
        f'<p><a href="{unsafe}">a</a><img src="{unsafe}"><form action="{unsafe}"><input></form>'
        f'<svg><a xlink:href="{unsafe}">s</a></svg><a href="/ok">ok</a></p>'
    )
    content = f"<![CDATA[{html}]]>"
    extra = f'<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">{content}'
    extra += "</content:encoded>"
    entry = parse(rss(item("t", "https://e.com/x", extra)).encode()).entries[0]
    assert entry.content_html is not None
    lowered = entry.content_html.lower()
    for marker in ("javascript", "data:", "file:", "<form", "<svg", "xlink", "<img"):
        assert marker not in lowered
    assert '<a href="https://e.com/ok">ok</a>' in entry.content_html


@pytest.mark.parametrize("unsafe", UNSAFE)
def test_unsafe_links_dropped_in_json_feed(unsafe: str) -> None:
    content = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "url": "%s", '
        b'"image": "%s", "content_html": "<a href=\\"%s\\" onclick=\\"x()\\">a</a>"}]}'
    ) % ((unsafe.replace('"', '\\"').encode(),) * 3)
    entry = parse(content).entries[0]
    assert (entry.url, entry.image) == (None, None)
    assert entry.content_html == "<a>a</a>"


INTERNAL = [
    "http://127.0.0.1/a.jpg",
    "http://169.254.169.254/latest/",
    "http://10.0.0.1/x",
    "http://[::1]/x",
    "http://2130706433/x",
    "http://localhost/x",
    "http://[fd00::1]/x",
]


@pytest.mark.parametrize("internal", INTERNAL)
def test_links_to_internal_addresses_dropped_from_images_and_content(internal: str) -> None:
    """The entry's own link stays (the fetcher refuses it: a visible blocked_address dead
    letter); images and content links pointing inside the network go."""
    html = f'<p><a href="{internal}">a</a><img src="{internal}"> <a href="/ok">ok</a></p>'
    extra = (
        f'<enclosure url="{internal}" type="image/jpeg"/>'
        '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<![CDATA[{html}]]></content:encoded>"
    )
    content = rss(item("t", internal, extra)).encode()
    entry = parse(content).entries[0]
    assert entry.url == internal
    assert entry.image is None
    assert entry.content_html is not None
    assert internal not in entry.content_html
    assert "<img" not in entry.content_html
    opened = parse_feed(content, url=URL, links=AddressGuard(allow_private=True)).entries[0]
    assert opened.image == internal
    assert f'<a href="{internal}">a</a>' in (opened.content_html or "")
