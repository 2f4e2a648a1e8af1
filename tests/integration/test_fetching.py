"""The safe HTTP client against a local misbehaving origin; every case runs for both the
sync ``Fetcher`` and the ``AsyncFetcher``. Nothing here touches the internet."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import itertools
import socket
import struct
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from ipaddress import ip_network
from typing import Any

import pytest

from service.addresses import AddressGuard
from service.errors import IngestError, NotModified, PermanentError, Reason, TransientError
from service.fetching import AsyncFetcher, Fetcher, detect_encoding
from service.fetching.aio import guarded_session, joined_headers
from service.fetching.responses import max_age, retry_after
from service.models import FetchedPage
from service.settings import Settings
from tests.support.origin import Origin, Response

FetchFn = Callable[..., FetchedPage]
HTML = "<!doctype html><html><head><title>t</title></head><body><p>{}</p></body></html>"
MARGIN = 0.6  # seconds allowed past the fetch deadline


def decoded(page: FetchedPage) -> str:
    """The body as the fetcher's detected encoding reads it."""
    return page.content.decode(page.encoding or "utf-8", errors="replace")


@pytest.fixture
def origin() -> Iterator[Origin]:
    """The shared origin, shut down in 50 ms instead of 500 (many short tests here)."""
    with Origin(poll_interval=0.05) as server:
        yield server


@pytest.fixture(params=["sync", "async"])
def fetch(request: pytest.FixtureRequest, settings: Settings) -> FetchFn:
    """``fetch(url, using=settings, **kwargs)`` with a fresh Fetcher or AsyncFetcher."""

    def run(url: str, *, using: Settings = settings, **kwargs: Any) -> FetchedPage:
        if request.param == "sync":
            with Fetcher(using) as fetcher:
                return fetcher.fetch(url, **kwargs)

        async def go() -> FetchedPage:
            async with AsyncFetcher(using) as fetcher:
                return await fetcher.fetch(url, **kwargs)

        return asyncio.run(go())

    return run


def refused(fn: FetchFn, url: str, **kwargs: Any) -> tuple[IngestError, float]:
    """The error a fetch raises, and how long it took to raise it."""
    started = time.monotonic()
    with pytest.raises(IngestError) as info:
        fn(url, **kwargs)
    return info.value, time.monotonic() - started


def gzip_bomb(megabytes: int) -> bytes:
    """A valid gzip member inflating to ``megabytes`` MiB of zeros, ~1 KB per MiB.

    After a full flush the compressor starts afresh, so one compressed MiB can be repeated.
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = bytes(1 << 20)
    segment = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF)
    return header + segment * megabytes + comp.flush() + trailer


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = gzip_bomb(1024)  # 1 GiB of zeros
    assert len(data) < 1_100_000
    return data


# --- normal pages ---------------------------------------------------------------------
def test_page_with_header_charset(origin: Origin, fetch: FetchFn) -> None:
    body = HTML.format("Café, naïve, Œuvre — €").encode("cp1252")
    origin.add(
        "/p",
        body,
        content_type="text/html; charset=windows-1252",
        headers={
            "Cache-Control": "public, max-age=300",
            "ETag": '"v1"',
            "Last-Modified": "Tue, 01 Apr 2025 10:00:00 GMT",
        },
    )
    page = fetch(origin.url("/p"))
    assert page.status == 200
    assert page.requested_url == page.url == origin.url("/p")
    assert page.encoding == "cp1252"
    assert "Café, naïve, Œuvre — €" in decoded(page)
    assert page.content_type == "text/html; charset=windows-1252"
    assert (page.etag, page.last_modified) == ('"v1"', "Tue, 01 Apr 2025 10:00:00 GMT")
    assert page.cache_control_max_age == 300.0
    assert page.redirects == ()
    assert abs((datetime.now(UTC) - page.fetched_at).total_seconds()) < 5


@pytest.mark.parametrize(
    ("head", "codec"),
    [
        ('<meta charset="iso-8859-15">', "iso8859-15"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=KOI8-R">', "koi8-r"),
        ("<meta charset=utf-16>", "utf-8"),
    ],
)
def test_page_charset_from_meta(origin: Origin, fetch: FetchFn, head: str, codec: str) -> None:
    text = "Привет" if codec == "koi8-r" else "Année €"
    body = f"<html><head>{head}</head><body>{text}</body></html>".encode(codec)
    origin.add("/m", body, content_type="text/html")
    page = fetch(origin.url("/m"))
    assert page.encoding == codec
    assert text in decoded(page)


def test_page_charset_detected_when_undeclared(origin: Origin, fetch: FetchFn) -> None:
    text = (
        "Правительство объявило о новых мерах поддержки экономики. Министр финансов "  # noqa: RUF001
        "заявил, что бюджет будет сбалансирован в следующем году. "
    ) * 8
    origin.add("/ru", HTML.format(text).encode("cp1251"), content_type="text/html")
    origin.add("/u8", HTML.format("déjà vu").encode(), content_type="text/html")
    page = fetch(origin.url("/ru"))
    assert page.encoding == "cp1251"
    assert text in decoded(page)
    assert fetch(origin.url("/u8")).encoding == "utf-8"


def test_wrong_or_bogus_header_charset(origin: Origin, fetch: FetchFn) -> None:
    """Latin-1 declared over valid UTF-8 is read as UTF-8; a bogus name falls through."""
    origin.add(
        "/wrong",
        HTML.format("Zürich — Genève").encode(),
        content_type="text/html; charset=ISO-8859-1",
    )
    page = fetch(origin.url("/wrong"))
    assert page.encoding == "utf-8"
    assert "Zürich — Genève" in decoded(page)
    body = b'<html><head><meta charset="iso-8859-2"></head><body>\xb1\xe6</body></html>'
    origin.add("/bogus", body, content_type="text/html; charset=x-no-such-charset")
    assert fetch(origin.url("/bogus")).encoding == "iso8859-2"
    origin.add("/b64", body, content_type="text/html; charset=base64")
    assert fetch(origin.url("/b64")).encoding == "iso8859-2"


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "raw-deflate"])
def test_compressed_page(origin: Origin, fetch: FetchFn, encoding: str) -> None:
    html = HTML.format("compressed " * 2000).encode()
    if encoding in ("gzip", "x-gzip"):
        data = gzip.compress(html)
    elif encoding == "deflate":
        data = zlib.compress(html)
    else:
        comp = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        data = comp.compress(html) + comp.flush()
    header = "deflate" if encoding == "raw-deflate" else encoding
    origin.add("/z", data, headers={"Content-Encoding": header})
    page = fetch(origin.url("/z"))
    assert page.content == html
    assert origin.hits[-1].headers["Accept-Encoding"] == "gzip, deflate"


def test_request_headers_and_no_cookies(origin: Origin, fetch: FetchFn, settings: Settings) -> None:
    origin.add("/c", HTML.format("x"), headers={"Set-Cookie": "session=abc; Path=/"})
    using = settings.model_copy(update={"contact_url": "https://ops.example/contact"})
    for _ in range(2):
        fetch(origin.url("/c"), using=using)
    first, second = origin.hits[-2].headers, origin.hits[-1].headers
    assert first["User-Agent"].endswith("https://ops.example/contact")
    assert "text/html" in first["Accept"]
    assert "Cookie" not in second
    assert "If-None-Match" not in first


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_fetcher_pools_connections_and_keeps_no_cookies(
    origin: Origin, settings: Settings, kind: str
) -> None:
    """Three fetches by one fetcher: one connection (the client port seen by the origin),
    and the cookie set on the first is never sent back."""
    ports: list[int] = []

    def remember(req: BaseHTTPRequestHandler) -> Response:
        ports.append(req.client_address[1])
        return Response(
            body=HTML.format("x").encode(),
            headers={"Content-Type": "text/html", "Set-Cookie": "a=b"},
        )

    origin.add_handler("/k", remember)
    if kind == "sync":
        with Fetcher(settings) as fetcher:
            for _ in range(3):
                fetcher.fetch(origin.url("/k"))
    else:

        async def go() -> None:
            async with AsyncFetcher(settings) as fetcher:
                for _ in range(3):
                    await fetcher.fetch(origin.url("/k"))

        asyncio.run(go())
    assert len(ports) == 3
    assert len(set(ports)) == 1
    assert all("Cookie" not in hit.headers for hit in origin.hits)


def test_repeated_response_headers_are_joined_as_httpx_joins_them(
    origin: Origin, fetch: FetchFn
) -> None:
    origin.add_handler(
        "/l",
        lambda req: Response(
            body=HTML.format("x").encode(),
            headers={  # two spellings of one name: two header lines
                "Content-Type": "text/html",
                "Link": '<https://hub.example/>; rel="hub"',
                "link": '<https://e.example/feed>; rel="self"',
            },
        ),
    )
    page = fetch(origin.url("/l"))
    assert page.links == '<https://hub.example/>; rel="hub", <https://e.example/feed>; rel="self"'
    assert joined_headers({"A": "1"}) == {"a": "1"}


def test_the_async_session_checks_the_address_it_connects_to(origin: Origin) -> None:
    """A literal IP is not resolved by aiohttp: the socket factory judges it at connect,
    even for a request that never went through the fetcher's URL check."""
    origin.add("/a", HTML.format("x"))

    async def go(guard: AddressGuard) -> int:
        async with (
            guarded_session(guard, max_connections=2) as session,
            session.get(origin.url("/a")) as response,
        ):
            return response.status

    with pytest.raises(PermanentError) as info:
        asyncio.run(go(AddressGuard()))
    assert info.value.reason is Reason.BLOCKED_ADDRESS
    assert origin.count("/a") == 0
    assert asyncio.run(go(AddressGuard(allowed_networks=["127.0.0.0/8"]))) == 200


# --- feeds ----------------------------------------------------------------------------
def test_feed_kinds(origin: Origin, fetch: FetchFn) -> None:
    rss = '<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><title>Caf\xe9</title>'
    origin.add(
        "/rss", rss.encode("latin-1") + b"</channel></rss>", content_type="application/rss+xml"
    )
    page = fetch(origin.url("/rss"), kind="feed")
    assert page.encoding == "cp1252"
    assert "Café" in decoded(page)
    origin.add(
        "/json",
        b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
        content_type="application/feed+json",
    )
    assert fetch(origin.url("/json"), kind="feed").encoding == "utf-8"
    origin.add("/octet", b"<?xml version='1.0'?><feed/>", content_type="application/octet-stream")
    assert fetch(origin.url("/octet"), kind="feed").content.endswith(b"<feed/>")


@pytest.mark.parametrize("content_type", ["application/x-gzip", "application/octet-stream"])
def test_a_feed_served_as_a_gzip_file(origin: Origin, fetch: FetchFn, content_type: str) -> None:
    sitemap = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    sitemap += b"<url><loc>http://127.0.0.1/a</loc></url></urlset>"
    origin.add("/sitemap.xml.gz", gzip.compress(sitemap), content_type=content_type)
    page = fetch(origin.url("/sitemap.xml.gz"), kind="feed")
    assert page.content == sitemap
    origin.add("/archive.tar.gz", gzip.compress(b"\x00" * 600), content_type=content_type)
    error, _ = refused(fetch, origin.url("/archive.tar.gz"), kind="feed")
    assert error.reason is Reason.NOT_A_FEED  # inflated, then not XML or JSON


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n" + bytes(100)),
        ("application/pdf", b"%PDF-1.7"),
        ("video/mp4", bytes(64)),
        ("application/octet-stream", b"PK\x03\x04zipzip"),
        (None, b"\x89PNG\r\n"),
    ],
)
def test_not_a_feed(origin: Origin, fetch: FetchFn, content_type: str | None, body: bytes) -> None:
    origin.add("/f", body, content_type=content_type)
    error, _ = refused(fetch, origin.url("/f"), kind="feed")
    assert isinstance(error, PermanentError)
    assert error.reason is Reason.NOT_A_FEED


# --- content type of pages --------------------------------------------------------------
@pytest.mark.parametrize(
    "content_type", ["image/png", "application/json", "text/plain", "application/rss+xml"]
)
def test_page_with_wrong_content_type(origin: Origin, fetch: FetchFn, content_type: str) -> None:
    """Refused on the headers, before the (here slowly dripping) body is read."""
    origin.add("/t", b"{}" * 200, content_type=content_type, drip=0.05, drip_chunk=10)
    error, took = refused(fetch, origin.url("/t"))
    assert isinstance(error, PermanentError)
    assert error.reason is Reason.NOT_HTML
    assert took < 0.5


def test_page_without_content_type_is_sniffed(origin: Origin, fetch: FetchFn) -> None:
    origin.add("/html", "\n  " + HTML.format("sniffed"), content_type=None)
    assert b"sniffed" in fetch(origin.url("/html")).content
    origin.add("/bin", b"GIF89a\x00\x01", content_type=None)
    error, _ = refused(fetch, origin.url("/bin"))
    assert error.reason is Reason.NOT_HTML


# --- deadline -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "behaviour",
    [
        {"drip": 0.05, "drip_chunk": 1},
        {"header_drip": 0.05},
        {"delay": 10.0},
        {"chunked": True, "drip": 0.05},
    ],
    ids=["body-drip", "header-drip", "silent", "chunked-drip"],
)
def test_slow_server_is_cut_at_the_deadline(
    origin: Origin, fetch: FetchFn, settings: Settings, behaviour: dict[str, Any]
) -> None:
    """A server dripping a byte every 50 ms (a 60 s body) is cut at the 1.5 s deadline."""
    origin.add("/slow", b"<html>" + b"x" * 1200, **behaviour)
    using = settings.model_copy(update={"fetch_timeout": 1.5})
    error, took = refused(fetch, origin.url("/slow"), using=using)
    assert isinstance(error, TransientError)
    assert error.reason is Reason.TIMEOUT
    assert 1.4 <= took < 1.5 + MARGIN


def test_deadline_covers_redirects(origin: Origin, fetch: FetchFn, settings: Settings) -> None:
    """Each hop is quick, the chain is not: the deadline is per fetch, not per request."""
    for i in range(4):
        origin.add(
            f"/hop{i}",
            status=302,
            content_type=None,
            delay=0.5,
            headers={"Location": f"/hop{i + 1}"},
        )
    origin.add("/hop4", HTML.format("end"))
    using = settings.model_copy(update={"fetch_timeout": 1.2, "max_redirects": 10})
    error, took = refused(fetch, origin.url("/hop0"), using=using)
    assert error.reason is Reason.TIMEOUT
    assert took < 1.2 + MARGIN


# --- byte caps ------------------------------------------------------------------------
def test_gzip_bomb_is_refused_fast_in_bounded_memory(
    origin: Origin, fetch: FetchFn, bomb: bytes
) -> None:
    """1 MB of gzip inflating to 1 GiB: refused after max_page_bytes + 1 inflated bytes."""
    origin.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        error, took = refused(fetch, origin.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, PermanentError)
    assert error.reason is Reason.TOO_LARGE
    assert "after decompression" in error.detail
    assert took < 2.0
    assert peak < 50_000_000


@pytest.fixture
def raw_head_server() -> Iterator[Callable[[Callable[[socket.socket], None]], str]]:
    """``serve(write)``: a URL whose server reads the request, sends a status line and lets
    ``write(sock)`` send the rest (headers a real HTTP server would never send)."""
    sockets: list[socket.socket] = []

    def serve(write: Callable[[socket.socket], None]) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)

        def run() -> None:
            with contextlib.suppress(OSError):
                while True:
                    conn, _ = listener.accept()
                    with conn, contextlib.suppress(OSError):
                        conn.recv(65536)
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
                        write(conn)

        threading.Thread(target=run, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/x"

    yield serve
    for listener in sockets:
        listener.close()


def _long_header(conn: socket.socket) -> None:
    conn.sendall(b"X-Long: " + b"a" * 2_000_000 + b"\r\n\r\n")


def _endless_headers(conn: socket.socket) -> None:
    lines = b"".join(b"X-%d: v\r\n" % i for i in range(1000))
    for _ in range(20_000):  # 200 MB of headers if the client kept reading
        conn.sendall(lines)


@pytest.mark.parametrize("write", [_long_header, _endless_headers], ids=["2MB-line", "endless"])
def test_oversized_response_headers_are_refused_fast_in_bounded_memory(
    raw_head_server: Callable[[Callable[[socket.socket], None]], str],
    fetch: FetchFn,
    write: Callable[[socket.socket], None],
) -> None:
    url = raw_head_server(write)
    tracemalloc.start()
    try:
        error, took = refused(fetch, url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, TransientError)
    assert error.reason is Reason.CONNECTION
    assert took < 2.0
    assert peak < 20_000_000


def test_deflate_bomb_in_a_feed(origin: Origin, fetch: FetchFn, settings: Settings) -> None:
    data = zlib.compress(bytes(200_000_000), 9)  # 200 MB of zeros in ~200 KB
    origin.add(
        "/fbomb", data, content_type="application/xml", headers={"Content-Encoding": "deflate"}
    )
    error, _ = refused(fetch, origin.url("/fbomb"), kind="feed")
    assert error.reason is Reason.TOO_LARGE
    assert str(settings.max_feed_bytes) in error.detail


def test_oversized_body_with_content_length(
    origin: Origin, fetch: FetchFn, settings: Settings
) -> None:
    origin.add("/big", b"<html>" + b"a" * settings.max_page_bytes)
    error, took = refused(fetch, origin.url("/big"))
    assert error.reason is Reason.TOO_LARGE
    assert "Content-Length" in error.detail
    assert took < 1.0
    origin.add("/fits", b"<html>" + b"a" * (settings.max_page_bytes - 6))
    assert len(fetch(origin.url("/fits")).content) == settings.max_page_bytes


def test_endless_body_without_content_length(origin: Origin, fetch: FetchFn) -> None:
    origin.add("/endless", stream=lambda: itertools.repeat(b"<p>" + b"a" * 65_533))
    tracemalloc.start()
    try:
        error, took = refused(fetch, origin.url("/endless"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.reason is Reason.TOO_LARGE
    assert "on the wire" in error.detail
    assert took < 3.0
    assert peak < 50_000_000


# --- address guard --------------------------------------------------------------------
def test_default_settings_refuse_loopback_without_connecting(
    origin: Origin, fetch: FetchFn
) -> None:
    origin.add("/a", HTML.format("x"))
    for url in [
        origin.url("/a"),
        f"http://localhost:{origin.port}/a",
        f"http://2130706433:{origin.port}/a",
        f"http://[::ffff:7f00:1]:{origin.port}/a",
    ]:
        error, _ = refused(fetch, url, using=Settings())
        assert isinstance(error, PermanentError), url
        assert error.reason is Reason.BLOCKED_ADDRESS, url
    assert origin.count("/a") == 0


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://0xa9fea9fe/latest/meta-data/",
        "http://2852039166/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://10.0.0.1/",
        "http://0177.0.0.2:1/",
        "http://metadata.test/computeMetadata/v1/",
    ],
)
def test_redirect_to_a_blocked_address(
    origin: Origin, fetch: FetchFn, settings: Settings, location: str, fake_dns: None
) -> None:
    origin.redirect("/r", location)
    using = settings.model_copy(update={"allowed_networks": [ip_network("127.0.0.1/32")]})
    error, took = refused(fetch, origin.url("/r"), using=using)
    assert isinstance(error, PermanentError)
    assert error.reason is Reason.BLOCKED_ADDRESS
    assert took < 1.0


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """``metadata.test`` resolves to 169.254.169.254, ``rebind.test`` to 127.0.0.1."""
    real = socket.getaddrinfo
    names = {"metadata.test": "169.254.169.254", "rebind.test": "127.0.0.1"}

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        return real(names.get(name, name), port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_names_are_checked_on_what_they_resolve_to(
    origin: Origin, fetch: FetchFn, settings: Settings, fake_dns: None
) -> None:
    """The connection goes to the checked address; the Host header keeps the name."""
    origin.add("/a", HTML.format("rebound"))
    url = f"http://rebind.test:{origin.port}/a"
    error, _ = refused(fetch, url, using=Settings())
    assert error.reason is Reason.BLOCKED_ADDRESS
    assert origin.count("/a") == 0
    assert b"rebound" in fetch(url).content
    assert origin.hits[-1].headers["Host"] == f"rebind.test:{origin.port}"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://x.test/",
        "data:text/html,<p>x",
        "http://",
        "not a url",
    ],
)
def test_bad_urls(fetch: FetchFn, url: str) -> None:
    error, _ = refused(fetch, url)
    assert isinstance(error, PermanentError)
    assert error.reason is Reason.BAD_URL


def test_redirect_to_another_scheme_is_refused(origin: Origin, fetch: FetchFn) -> None:
    origin.redirect("/r", "file:///etc/passwd")
    error, _ = refused(fetch, origin.url("/r"))
    assert error.reason is Reason.BAD_URL


# --- redirects ------------------------------------------------------------------------
def test_redirect_chain(origin: Origin, fetch: FetchFn) -> None:
    origin.redirect("/one", origin.url("/two"), status=301)
    origin.redirect("/two", "three", status=307)
    origin.redirect("/three", f"http://localhost:{origin.port}/final#part", status=308)
    origin.add("/final", HTML.format("arrived"))
    page = fetch(origin.url("/one#top"))
    assert page.requested_url == origin.url("/one#top")
    assert page.url == f"http://localhost:{origin.port}/final"
    assert page.redirects == (origin.url("/two"), origin.url("/three"), page.url)
    assert b"arrived" in page.content


def test_redirect_loop_and_too_many(origin: Origin, fetch: FetchFn, settings: Settings) -> None:
    origin.redirect("/a", "/b")
    origin.redirect("/b", "/a")
    error, _ = refused(fetch, origin.url("/a"))
    assert error.reason is Reason.TOO_MANY_REDIRECTS
    assert "loop" in error.detail
    for i in range(5):
        origin.redirect(f"/c{i}", f"/c{i + 1}")
    origin.add("/c5", HTML.format("end"))
    using = settings.model_copy(update={"max_redirects": 4})
    error, _ = refused(fetch, origin.url("/c0"), using=using)
    assert error.reason is Reason.TOO_MANY_REDIRECTS
    assert len(fetch(origin.url("/c1"), using=using).redirects) == 4
    origin.redirect("/self", "/self")
    error, _ = refused(fetch, origin.url("/self"))
    assert error.reason is Reason.TOO_MANY_REDIRECTS


# --- status and conditional GET ---------------------------------------------------------
def test_conditional_get(origin: Origin, fetch: FetchFn) -> None:
    lm = "Wed, 02 Apr 2025 08:00:00 GMT"
    origin.add("/e", HTML.format("x"), etag='"abc"')
    origin.add("/l", HTML.format("x"), last_modified=lm)
    assert fetch(origin.url("/e")).etag == '"abc"'
    with pytest.raises(NotModified):
        fetch(origin.url("/e"), etag='"abc"')
    assert origin.hits[-1].headers["If-None-Match"] == '"abc"'
    assert fetch(origin.url("/l")).last_modified == lm
    with pytest.raises(NotModified):
        fetch(origin.url("/l"), last_modified=lm)
    assert origin.hits[-1].headers["If-Modified-Since"] == lm
    assert fetch(origin.url("/e"), etag='"old"').status == 200


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451])
def test_client_errors_are_permanent(origin: Origin, fetch: FetchFn, status: int) -> None:
    origin.add("/s", "nope", status=status)
    error, _ = refused(fetch, origin.url("/s"))
    assert isinstance(error, PermanentError)
    assert error.reason is Reason.HTTP_STATUS
    assert str(status) in error.detail


@pytest.mark.parametrize(
    ("status", "header", "expected"),
    [
        (503, "120", 120.0),
        (429, "5", 5.0),
        (500, None, None),
        (502, "soon", None),
        (504, "999999999", 86_400.0),
        (408, "0", 0.0),
        (503, "date+90", 90.0),
    ],
)
def test_server_errors_are_transient(
    origin: Origin, fetch: FetchFn, status: int, header: str | None, expected: float | None
) -> None:
    if header == "date+90":
        header = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    origin.add("/s", "busy", status=status, headers={"Retry-After": header} if header else {})
    error, _ = refused(fetch, origin.url("/s"))
    assert isinstance(error, TransientError)
    assert error.reason is Reason.HTTP_STATUS
    if expected is None:
        assert error.retry_after is None
    else:
        assert error.retry_after == pytest.approx(expected, abs=2)


# --- broken connections ---------------------------------------------------------------
@pytest.mark.parametrize(
    "behaviour",
    [{"reset": True}, {"truncate_to": 100}, {"chunked": True, "truncate_to": 100}],
    ids=["reset", "truncated", "incomplete-chunked"],
)
def test_broken_connections_are_transient(
    origin: Origin, fetch: FetchFn, behaviour: dict[str, Any]
) -> None:
    origin.add("/b", HTML.format("x" * 1000), **behaviour)
    error, _ = refused(fetch, origin.url("/b"))
    assert isinstance(error, TransientError)
    assert error.reason is Reason.CONNECTION


def test_connection_refused_is_transient(fetch: FetchFn) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error, _ = refused(fetch, f"http://127.0.0.1:{port}/")
    assert isinstance(error, TransientError)
    assert error.reason is Reason.CONNECTION


def test_tls_errors_are_transient(origin: Origin, fetch: FetchFn) -> None:
    """An https URL on a plain-HTTP port: the handshake fails."""
    error, _ = refused(fetch, f"https://127.0.0.1:{origin.port}/")
    assert isinstance(error, TransientError)
    assert error.reason is Reason.CONNECTION


def test_silent_tls_handshake_is_cut_at_the_deadline(fetch: FetchFn, settings: Settings) -> None:
    """The kernel accepts the connection, nobody answers the ClientHello."""
    using = settings.model_copy(update={"fetch_timeout": 1.0, "connect_timeout": 5.0})
    with socket.create_server(("127.0.0.1", 0)) as server:
        error, took = refused(fetch, f"https://127.0.0.1:{server.getsockname()[1]}/", using=using)
    assert error.reason is Reason.TIMEOUT
    assert took < 1.0 + MARGIN


# --- pure helpers ---------------------------------------------------------------------
def test_retry_after_and_max_age() -> None:
    now = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
    assert retry_after("30", now) == 30.0
    assert retry_after("Tue, 01 Apr 2025 12:01:00 GMT", now) == 60.0
    assert retry_after("Tue, 01 Apr 2025 11:00:00 GMT", now) == 0.0
    assert retry_after("-5", now) is None
    assert retry_after("", now) is None
    assert max_age("public, max-age=60, s-maxage=600") == 60.0
    assert max_age('max-age="5"') == 5.0
    assert max_age("no-store") is None


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b"\xef\xbb\xbf<html>caf\xc3\xa9", "text/html; charset=latin-1", "utf-8"),
        (b"\xff\xfe<\x00h\x00", None, "utf-16"),
        (b"plain ascii", None, "utf-8"),
        (b"caf\xe9", 'text/html; charset="ISO-8859-1"', "cp1252"),
        (b"<meta charset='gb2312'>\xc4\xe3\xba\xc3", "text/html", "gb18030"),
        (b"", None, "utf-8"),
    ],
)
def test_detect_encoding(content: bytes, content_type: str | None, expected: str) -> None:
    assert detect_encoding(content, content_type, kind="page") == expected


def test_detection_is_bounded(origin: Origin) -> None:
    """Detection looks at 32 KB whatever the size of the page."""
    big = ("é" * 10).encode("cp1252") + b"a" * 4_000_000
    started = time.monotonic()
    detect_encoding(big, None, kind="page")
    assert time.monotonic() - started < 1.0
