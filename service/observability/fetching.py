"""The fetchers, measured: duration and bytes of every fetch.

``MeteredFetcher`` / ``MeteredAsyncFetcher`` are drop-in subclasses of the fetchers of
:mod:`service.fetching` used by the worker and the poller.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from service.errors import IngestError, NotModified
from service.fetching import AsyncFetcher, Fetcher
from service.fetching.requests import Kind
from service.models import FetchedPage
from service.observability.metrics import record_fetch


@contextmanager
def _measured(kind: str) -> Iterator[list[FetchedPage]]:
    """Time the block; the block appends the page it got to the yielded list."""
    got: list[FetchedPage] = []
    started = time.perf_counter()
    result = "ok"
    try:
        yield got
    except NotModified:
        result = "not_modified"
        raise
    except IngestError as exc:
        result = exc.reason.value
        raise
    except BaseException:
        result = "internal_error"
        raise
    finally:
        ended = time.perf_counter()
        record_fetch(kind, result, ended - started, len(got[0].content) if got else 0)


class MeteredFetcher(Fetcher):
    """:class:`~service.fetching.Fetcher` recording ``newswire_fetch_*`` metrics."""

    def fetch(
        self,
        url: str,
        *,
        kind: Kind = "page",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchedPage:
        with _measured(kind) as got:
            got.append(super().fetch(url, kind=kind, etag=etag, last_modified=last_modified))
        return got[0]


class MeteredAsyncFetcher(AsyncFetcher):
    """:class:`~service.fetching.AsyncFetcher` recording ``newswire_fetch_*`` metrics."""

    async def fetch(
        self,
        url: str,
        *,
        kind: Kind = "page",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchedPage:
        with _measured(kind) as got:
            got.append(await super().fetch(url, kind=kind, etag=etag, last_modified=last_modified))
        return got[0]
