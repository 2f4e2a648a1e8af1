"""The Prometheus metrics of every role, and the record functions the pipeline calls.

Instruments are created on first use, never at import: in a Celery worker the parent
process switches prometheus_client to multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, see
:func:`enable_multiprocess`) before its prefork children record anything, and
prometheus_client decides between in-memory and file-backed values when an instrument (or a
labelled child) is created. Every record function is cheap and never raises into the
pipeline (a failure to record is logged once and ignored).

Names (prometheus_client adds ``_total`` to counters); the gauges read from Redis at scrape
time are in :mod:`service.observability.redis_state`:

- ``newswire_polls_total{outcome}``: fetched, not_modified, unchanged, error, removed,
  interrupted, lease_lost
- ``newswire_feed_entries_discovered_total``: entries read in fetched feed documents
- ``newswire_feed_entries_enqueued_total{kind}``: article tasks sent (new, changed)
- ``newswire_fetch_duration_seconds{kind,result}``: kind feed or page; result ok,
  not_modified or the error's reason code
- ``newswire_fetch_bytes_total{kind}``: body bytes received (after decompression)
- ``newswire_extraction_duration_seconds``: page fetched -> Article
- ``newswire_tasks_total{outcome}``: created, updated, duplicate, skipped, dead_letter, retry,
  deferred (no per-host slot in time: sent again), requeued, failed
- ``newswire_task_duration_seconds``: one article task attempt
- ``newswire_articles_published_total{type}``: created, updated, duplicate (this version
  was published already), skipped (a near-duplicate left off the stream,
  ``NEWSWIRE_DUPLICATES=skip``)
- ``newswire_story_identity_total{outcome}``: what the near-duplicate index said of an
  article: original, duplicate (a copy of a story seen before), known_original /
  known_duplicate (the id was indexed already: an update or a redelivery), short (too short
  to be indexed)
- ``newswire_story_identity_duration_seconds``: signature, index lookup and claim
- ``newswire_dead_letters_total{type,reason}``: entries written to the dead-letter stream
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec

from service.logs import get_logger

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

log = get_logger("newswire.metrics")
P = ParamSpec("P")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
EXTRACTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
IDENTITY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)
TASK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass(frozen=True)
class Instruments:
    polls: Counter
    entries_discovered: Counter
    entries_enqueued: Counter
    fetch_duration: Histogram
    fetch_bytes: Counter
    extraction_duration: Histogram
    tasks: Counter
    task_duration: Histogram
    published: Counter
    dead_letters: Counter
    identity: Counter
    identity_duration: Histogram


_instruments: Instruments | None = None


def instruments() -> Instruments:
    """The process's instruments, created on first use (see the module docstring)."""
    global _instruments
    if _instruments is None:
        _instruments = _create()
    return _instruments


def _create() -> Instruments:
    from prometheus_client import Counter, Histogram

    return Instruments(
        polls=Counter("newswire_polls", "Feed polls by outcome.", ["outcome"]),
        entries_discovered=Counter(
            "newswire_feed_entries_discovered", "Entries read in fetched feed documents."
        ),
        entries_enqueued=Counter(
            "newswire_feed_entries_enqueued",
            "Article tasks enqueued by the poller, by kind "
            "(new entry, or changed: what the feed says about a seen entry changed).",
            ["kind"],
        ),
        fetch_duration=Histogram(
            "newswire_fetch_duration_seconds",
            "HTTP fetches (redirects included) by kind "
            "(feed, page) and result (ok, not_modified, or the error's reason code).",
            ["kind", "result"],
            buckets=FETCH_BUCKETS,
        ),
        fetch_bytes=Counter(
            "newswire_fetch_bytes", "Body bytes received, after decompression.", ["kind"]
        ),
        extraction_duration=Histogram(
            "newswire_extraction_duration_seconds",
            "Extraction and structuring of one fetched page into an Article.",
            buckets=EXTRACTION_BUCKETS,
        ),
        tasks=Counter("newswire_tasks", "Article tasks run, by outcome.", ["outcome"]),
        task_duration=Histogram(
            "newswire_task_duration_seconds",
            "Article task run time (one attempt).",
            buckets=TASK_BUCKETS,
        ),
        published=Counter(
            "newswire_articles_published",
            "Publish attempts on the article stream by "
            "result: created, updated, duplicate (this version of the article was published "
            "already: not written) or skipped (a near-duplicate, NEWSWIRE_DUPLICATES=skip).",
            ["type"],
        ),
        dead_letters=Counter(
            "newswire_dead_letters",
            "Entries written to the dead-letter stream.",
            ["type", "reason"],
        ),
        identity=Counter(
            "newswire_story_identity",
            "Articles checked against the near-duplicate index, by outcome: original, "
            "duplicate, known_original, known_duplicate, short.",
            ["outcome"],
        ),
        identity_duration=Histogram(
            "newswire_story_identity_duration_seconds",
            "Near-duplicate check of one article: signature, index lookup and claim.",
            buckets=IDENTITY_BUCKETS,
        ),
    )


# --- record functions: one line at each place that knows the fact ---------------------------

_failed_once: set[str] = set()


def _never_raises(fn: Callable[P, None]) -> Callable[P, None]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except Exception as exc:
            if fn.__name__ not in _failed_once:
                _failed_once.add(fn.__name__)
                log.warning("metrics_record_failed", metric=fn.__name__, error=repr(exc))

    return wrapper


@_never_raises
def record_poll(outcome: str) -> None:
    instruments().polls.labels(outcome).inc()


@_never_raises
def record_entries(discovered: int, enqueued_kinds: list[str]) -> None:
    m = instruments()
    m.entries_discovered.inc(discovered)
    for kind in enqueued_kinds:
        m.entries_enqueued.labels(kind).inc()


@_never_raises
def record_fetch(kind: str, result: str, seconds: float, nbytes: int = 0) -> None:
    m = instruments()
    m.fetch_duration.labels(kind, result).observe(seconds)
    if nbytes:
        m.fetch_bytes.labels(kind).inc(nbytes)


@_never_raises
def record_extraction(seconds: float) -> None:
    instruments().extraction_duration.observe(seconds)


@_never_raises
def record_task(outcome: str, seconds: float | None) -> None:
    m = instruments()
    m.tasks.labels(outcome).inc()
    if seconds is not None:
        m.task_duration.observe(seconds)


@_never_raises
def record_published(outcome: str) -> None:
    """``outcome``: ``article.created``, ``article.updated``, ``duplicate`` or ``skipped``."""
    instruments().published.labels(outcome.removeprefix("article.")).inc()


@_never_raises
def record_identity(outcome: str, seconds: float) -> None:
    m = instruments()
    m.identity.labels(outcome).inc()
    m.identity_duration.observe(seconds)


@_never_raises
def record_dead_letter(kind: str, reason: str, *, written: bool = True) -> None:
    if written:
        instruments().dead_letters.labels(kind, reason).inc()


# --- multiprocess mode (Celery prefork) -------------------------------------------------------


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def enable_multiprocess() -> tuple[Path, bool]:
    """Switch this process and the children it forks from now on to multiprocess mode.

    Uses ``$PROMETHEUS_MULTIPROC_DIR`` when set (its stale ``*.db`` files from an earlier run
    are deleted, as prometheus_client requires), else a new temporary directory. Returns the
    directory and whether it was created here (then :func:`disable_multiprocess` removes it).
    Must run before this process records anything.
    """
    if _instruments is not None:
        raise RuntimeError("metrics were recorded before multiprocess mode was enabled")
    existing = multiprocess_dir()
    if existing is not None:
        existing.mkdir(parents=True, exist_ok=True)
        for stale in existing.glob("*.db"):
            stale.unlink(missing_ok=True)
        path, created = existing, False
    else:
        path, created = Path(tempfile.mkdtemp(prefix="newswire-metrics-")), True
        os.environ[MULTIPROC_ENV] = str(path)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:  # imported by someone before us: let it see the directory too
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    return path, created


def disable_multiprocess(path: Path, *, created: bool) -> None:
    if created:
        shutil.rmtree(path, ignore_errors=True)
        if os.environ.get(MULTIPROC_ENV) == str(path):
            del os.environ[MULTIPROC_ENV]


def mark_process_dead(pid: int) -> None:
    """A child process exits: fold its counters and histograms (and those of any process
    that is gone) into the archive files, drop its live gauges (see ``multiproc``)."""
    path = multiprocess_dir()
    if path is not None and path.is_dir():
        from service.observability.multiproc import fold_dead

        fold_dead(path, exiting=pid)
