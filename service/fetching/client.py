"""The fetchers: the only I/O of this package. Everything else is in plain functions.

Both fetchers run one fetch the same way: check the URL, then per hop send a GET (guarded
connect, per-operation timeouts clamped to the fetch deadline), follow a redirect or check
status, type and length, stream the raw body through a :class:`BodyReader`, and freeze the
result into a :class:`FetchedPage`. Only ``service.errors`` classes leave a fetch.

The sync fetcher sends its requests straight to the guarded httpx transport, not through
``httpx.Client``: the client would parse ``Location`` itself (and fail on spellings the
guard wants to judge), keep cookies, and read proxy settings from the environment. The
async fetcher uses an aiohttp session built by :func:`service.fetching.aio.guarded_session`
(no redirects followed, no cookies, no proxy, raw bytes). Each keeps a connection pool, so
a fetcher reuses connections across fetches.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

import aiohttp
import httpcore
import httpx
import yarl

from service.addresses import AddressGuard
from service.errors import PermanentError, Reason, TransientError
from service.fetching.aio import guarded_session, hop_timeout, joined_headers, read_chunk
from service.fetching.body import BodyReader, check_content_length
from service.fetching.charset import Markup, detect_encoding
from service.fetching.deadline import Deadline, SlowResponse, deadline_scope
from service.fetching.requests import (
    REDIRECT_STATUSES,
    Kind,
    Redirects,
    check_url,
    request_headers,
)
from service.fetching.responses import check_body_type, check_declared_type, check_status, max_age
from service.fetching.transport import GuardedTransport
from service.models import FetchedPage
from service.settings import Settings

ASYNC_GRACE = 0.25  # the async fetch is cancelled this long after its deadline, as a backstop


class Headers(Protocol):
    """Response headers by lower-case name, repeated ones joined (``httpx.Headers``, or
    :func:`~service.fetching.aio.joined_headers` of aiohttp's)."""

    def get(self, key: str, default: None = None) -> str | None: ...


@dataclass(frozen=True)
class FetchPlan:
    """One fetch, decided before any I/O."""

    requested_url: str
    url: str
    kind: Kind
    limit: int
    headers: dict[str, str]
    conditional: bool
    max_redirects: int
    allow_insecure_redirects: bool
    timeout: float
    min_rate: float  # bytes/s from a response's first byte on (0: no minimum)
    rate_grace: float

    def deadline(self) -> Deadline:
        return Deadline(self.timeout, min_rate=self.min_rate, grace=self.rate_grace)

    def redirects(self) -> Redirects:
        return Redirects(self.url, self.max_redirects, self.allow_insecure_redirects)


LIMITS = {"page": "max_page_bytes", "feed": "max_feed_bytes", "robots": "robots_max_bytes"}


def plan_fetch(
    settings: Settings,
    guard: AddressGuard,
    url: str,
    kind: Kind,
    etag: str | None,
    last_modified: str | None,
) -> FetchPlan:
    headers = request_headers(
        kind, settings.full_user_agent, etag=etag, last_modified=last_modified
    )
    return FetchPlan(
        requested_url=url,
        url=check_url(url, guard),
        kind=kind,
        limit=getattr(settings, LIMITS[kind]),
        headers=headers,
        max_redirects=settings.max_redirects,
        conditional="If-None-Match" in headers or "If-Modified-Since" in headers,
        allow_insecure_redirects=settings.allow_insecure_redirects,
        timeout=settings.robots_timeout if kind == "robots" else settings.fetch_timeout,
        min_rate=settings.min_fetch_rate if kind == "page" else 0.0,
        rate_grace=settings.min_fetch_rate_grace,
    )


def on_head(
    plan: FetchPlan, redirects: Redirects, status: int, headers: Headers, guard: AddressGuard
) -> BodyReader | None:
    """Handle status and headers: ``None`` after recording a redirect, else a body reader."""
    url = redirects.current
    if status in REDIRECT_STATUSES:
        redirects.follow(headers.get("location"), status, guard)
        return None
    check_status(
        status,
        url,
        conditional=plan.conditional,
        retry_after_header=headers.get("retry-after"),
        now=datetime.now(UTC),
    )
    check_declared_type(plan.kind, headers.get("content-type"), url)
    check_content_length(headers.get("content-length"), plan.limit, url)
    return BodyReader(
        limit=plan.limit,
        content_encoding=headers.get("content-encoding"),
        url=url,
        gzip_files=plan.kind == "feed",  # sitemap.xml.gz served as a file
    )


def _charset_kind(kind: Kind) -> Markup:
    return "page" if kind == "page" else "feed"  # robots.txt: no <meta> to look at


def freeze_page(
    plan: FetchPlan, redirects: Redirects, status: int, headers: Headers, body: bytes
) -> FetchedPage:
    content_type = (headers.get("content-type") or "").strip()[:200] or None
    check_body_type(plan.kind, content_type, body, redirects.current)
    return FetchedPage(
        requested_url=plan.requested_url,
        url=redirects.current,
        status=status,
        content=body,
        content_type=content_type,
        encoding=detect_encoding(
            body, content_type, kind="page" if plan.kind == "page" else "feed"
        ),
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        cache_control_max_age=max_age(headers.get("cache-control")),
        links=(headers.get("link") or "")[:8192] or None,
        fetched_at=datetime.now(UTC),
        redirects=tuple(redirects.followed),
    )


@contextmanager
def translate_errors(redirects: Redirects, deadline: Deadline) -> Iterator[None]:
    """Wrap every library exception of a fetch into a ``service.errors`` class."""
    try:
        yield
    except SlowResponse as exc:
        raise PermanentError(
            f"{redirects.current}: too slow: {exc}", reason=Reason.TOO_SLOW
        ) from exc
    except (httpx.TimeoutException, httpcore.TimeoutException, TimeoutError) as exc:
        # aiohttp's ServerTimeoutError / ConnectionTimeoutError are TimeoutErrors
        url = redirects.current
        raise TransientError(
            f"{url}: timed out ({type(exc).__name__}, fetch deadline {deadline.seconds:g} s)",
            reason=Reason.TIMEOUT,
        ) from exc
    except (
        httpx.InvalidURL,
        httpx.UnsupportedProtocol,
        httpx.LocalProtocolError,
        aiohttp.InvalidURL,
    ) as exc:
        raise PermanentError(f"{redirects.current}: {exc}", reason=Reason.BAD_URL) from exc
    except (
        httpx.TransportError,
        httpcore.NetworkError,
        httpcore.ProtocolError,
        ssl.SSLError,
        OSError,  # aiohttp's connection errors (ClientOSError, ClientConnectorError …)
        aiohttp.ClientConnectionError,
        aiohttp.ClientPayloadError,  # a broken body: truncated, bad chunking
        aiohttp.ClientResponseError,  # a response aiohttp could not parse
    ) as exc:
        raise TransientError(
            f"{redirects.current}: {type(exc).__name__}: {exc}", reason=Reason.CONNECTION
        ) from exc
    except (httpx.HTTPError, httpx.StreamError, aiohttp.ClientError, zlib.error) as exc:
        detail = f"{redirects.current}: {type(exc).__name__}: {exc}"
        raise PermanentError(detail, reason=Reason.INTERNAL) from exc


def build_request(
    settings: Settings, plan: FetchPlan, url: str, deadline: Deadline
) -> httpx.Request:
    """The GET of one hop, its timeouts clamped to what is left of the deadline."""
    left, connect = deadline.hop_timeouts(settings.connect_timeout)
    timeout = httpx.Timeout(left, connect=connect)
    return httpx.Request(
        "GET", url, headers=plan.headers, extensions={"timeout": timeout.as_dict()}
    )


def address_guard(settings: Settings) -> AddressGuard:
    """The address policy of the settings (allow-list, or every private network)."""
    return AddressGuard(
        allowed_networks=settings.allowed_networks, allow_private=settings.allow_private_networks
    )


class Fetcher:
    """The sync fetcher (Celery workers, ``newswire extract``); pools connections."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.guard = address_guard(settings)
        limits = httpx.Limits(
            max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0
        )
        self._transport = GuardedTransport(self.guard, limits=limits)

    def fetch(
        self,
        url: str,
        *,
        kind: Kind = "page",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchedPage:
        """GET ``url`` safely; raises ``NotModified``, ``TransientError`` or ``PermanentError``."""
        plan = plan_fetch(self.settings, self.guard, url, kind, etag, last_modified)
        deadline, redirects = plan.deadline(), plan.redirects()
        with deadline_scope(deadline), translate_errors(redirects, deadline):
            while True:
                page = self._hop(plan, redirects, deadline)
                if page is not None:
                    return page

    def _hop(self, plan: FetchPlan, redirects: Redirects, deadline: Deadline) -> FetchedPage | None:
        deadline.check(redirects.current)
        deadline.start_response()
        request = build_request(self.settings, plan, redirects.current, deadline)
        response = self._transport.handle_request(request)
        try:
            status, headers = response.status_code, response.headers
            reader = on_head(plan, redirects, status, headers, self.guard)
            if reader is None:
                return None
            for chunk in response.iter_raw():
                reader.feed(chunk)
                deadline.check(redirects.current)
            return freeze_page(plan, redirects, status, headers, reader.finish())
        finally:
            response.close()

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncFetcher:
    """The async fetcher (the poller: many feeds at once); pools connections.

    Its aiohttp session is made on the first fetch, inside the running event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.guard = address_guard(settings)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = guarded_session(
                self.guard, max_connections=max(100, self.settings.poll_concurrency)
            )
        return self._session

    async def fetch(
        self,
        url: str,
        *,
        kind: Kind = "page",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchedPage:
        """GET ``url`` safely; raises ``NotModified``, ``TransientError`` or ``PermanentError``."""
        plan = plan_fetch(self.settings, self.guard, url, kind, etag, last_modified)
        deadline, redirects = plan.deadline(), plan.redirects()
        with deadline_scope(deadline), translate_errors(redirects, deadline):
            async with asyncio.timeout(deadline.seconds + ASYNC_GRACE):
                while True:
                    page = await self._hop(plan, redirects, deadline)
                    if page is not None:
                        return page

    async def _hop(
        self, plan: FetchPlan, redirects: Redirects, deadline: Deadline
    ) -> FetchedPage | None:
        deadline.check(redirects.current)
        deadline.start_response()
        response = await self.session.request(
            "GET",
            yarl.URL(redirects.current, encoded=True),
            headers=plan.headers,
            allow_redirects=False,
            timeout=hop_timeout(deadline, self.settings.connect_timeout),
        )
        try:
            status, headers = response.status, joined_headers(response.headers)
            reader = on_head(plan, redirects, status, headers, self.guard)
            if reader is None:
                response.close()  # a redirect: its body is not read, its connection not kept
                return None
            while chunk := await read_chunk(response.content, deadline):
                reader.feed(chunk)
                deadline.check(redirects.current)
            page = freeze_page(plan, redirects, status, headers, reader.finish())
        except BaseException:
            response.close()  # the connection is not reused: its body was not read to the end
            raise
        response.release()
        return page

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
