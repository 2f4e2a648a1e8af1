"""The fetchers, measured: duration and bytes of every fetch, and the extraction after it.

``MeteredFetcher`` / ``MeteredAsyncFetcher`` are drop-in subclasses of the fetchers of
:mod:`service.fetching` used by the worker and the poller. The page pipeline is "fetch, then
extract" (``service.pipeline.fetch_and_extract``), so the extraction of a page takes from
the end of its fetch to the moment the Article exists: :func:`record_extraction_since_fetch`
measures exactly that, per thread, without the pipeline knowing about metrics.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from service.errors import IngestError, NotModified
from service.fetching import AsyncFetcher, Fetcher
from service.models import FetchedPage
from service.observability.metrics import record_extraction, record_fetch

Kind = Literal["page", "feed"]
_last_fetch = threading.local()


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
        _last_fetch.ended = ended if got else None


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


def record_extraction_since_fetch() -> None:
    """Record the time since this thread's last successful fetch as extraction time.

    Call it right after ``fetch_and_extract`` returned an Article.
    """
    ended = getattr(_last_fetch, "ended", None)
    if ended is not None:
        record_extraction(time.perf_counter() - ended)
        _last_fetch.ended = None
