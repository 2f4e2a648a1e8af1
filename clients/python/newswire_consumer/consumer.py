"""``consume``: the consumer-group loop every reader of newswire's article stream needs.

It creates the group if missing, re-reads what this consumer had been given and never
acknowledged (a crash between delivery and ``XACK``), takes over entries that dead consumers
left pending (``XAUTOCLAIM`` after ``reclaim_after`` seconds), parses each entry into an
:class:`ArticleEvent` carrying the :class:`~newswire_consumer.article.Article`, calls the
handler, and acknowledges the entry only after the handler returned. It reports entries that
``MAXLEN`` trimming removed before the group read them, and returns within ``block`` seconds
of SIGTERM/SIGINT (or of ``stop`` being set).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import redis
from pydantic import ValidationError

from newswire_consumer.article import SCHEMA_VERSION, Article
from newswire_consumer.groups import (
    Entry,
    ensure_group,
    group_trimmed_before_read,
    read_group,
    read_own_pending,
)

log = logging.getLogger("newswire_consumer")
EventType = Literal["article.created", "article.updated"]
_TYPES: tuple[EventType, ...] = ("article.created", "article.updated")


class ConsumerError(Exception):
    """Base of the errors ``consume`` raises on purpose."""


class BadEvent(ConsumerError):
    """A stream entry that is not a valid article event (it stays pending, unacknowledged)."""

    def __init__(self, stream_id: str, why: str) -> None:
        super().__init__(f"stream entry {stream_id}: {why}")
        self.stream_id = stream_id


class UnsupportedSchemaVersion(BadEvent):
    """An event of a schema version this package does not know: upgrade newswire-consumer."""


@dataclass(frozen=True)
class ArticleEvent:
    """One entry of the article stream."""

    stream_id: str  # the entry's id in the stream (what is acknowledged)
    type: EventType
    id: str  # the article id (stable for one story)
    schema_version: int
    content_hash: str
    article: Article


def parse_event(stream_id: str, fields: dict[str, str]) -> ArticleEvent:
    """A stream entry's flat fields to an :class:`ArticleEvent`; raises :class:`BadEvent`."""
    kind = fields.get("type", "")
    if kind not in _TYPES:
        raise BadEvent(stream_id, f"unknown event type {kind[:40]!r}")
    try:
        version = int(fields.get("schema_version", ""))
    except ValueError:
        raise BadEvent(stream_id, "no schema_version") from None
    if version != SCHEMA_VERSION:
        raise UnsupportedSchemaVersion(
            stream_id, f"schema_version {version}; this package reads {SCHEMA_VERSION}"
        )
    try:
        article = Article.model_validate(json.loads(fields.get("data", "")))
    except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        raise BadEvent(stream_id, f"data is not an Article: {str(exc)[:300]}") from None
    return ArticleEvent(
        stream_id=stream_id,
        type=kind,  # checked against _TYPES above
        id=fields.get("id", article.id),
        schema_version=version,
        content_hash=fields.get("content_hash", article.content_hash),
        article=article,
    )


@contextmanager
def _stop_on_signals(stop: threading.Event, enabled: bool) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (main thread only); the old handlers come back."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda _sig, _frame: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Loop:
    """The state of one ``consume`` call."""

    def __init__(
        self,
        client: redis.Redis,
        stream: str,
        group: str,
        consumer: str,
        on_trimmed: Callable[[int], None] | None,
    ) -> None:
        self.client, self.stream, self.group, self.consumer = client, stream, group, consumer
        self.on_trimmed = on_trimmed
        self.trimmed_reported = 0
        self.handled = 0

    def check_trimmed(self) -> None:
        lost = group_trimmed_before_read(self.client, self.stream, self.group)
        if lost and lost != self.trimmed_reported:
            self.trimmed_reported = lost
            if self.on_trimmed is not None:
                self.on_trimmed(lost)
            else:
                log.warning(
                    "%d entries of %s were trimmed (MAXLEN) before group %s read them",
                    lost,
                    self.stream,
                    self.group,
                )

    def handle(self, entries: list[Entry], handler: Callable[[ArticleEvent], object]) -> None:
        for stream_id, fields in entries:
            handler(parse_event(stream_id, fields))  # an exception leaves the entry pending
            self.client.xack(self.stream, self.group, stream_id)
            self.handled += 1


def consume(
    handler: Callable[[ArticleEvent], object],
    *,
    group: str,
    consumer: str,
    redis_url: str | None = None,
    client: redis.Redis | None = None,
    stream: str = "newswire:articles",
    start: str = "$",
    batch: int = 10,
    block: float = 2.0,
    reclaim_after: float = 60.0,
    max_events: int | None = None,
    idle_exit: float | None = None,
    on_trimmed: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    handle_signals: bool = True,
) -> int:
    """Read ``stream`` as consumer ``consumer`` of ``group`` and call ``handler`` per event.

    Give ``redis_url`` or a ready ``client``. ``start`` is where a new group begins (``$``:
    new events only; ``0``: everything the stream still holds). Each entry is acknowledged
    after ``handler`` returns; if it raises, the exception propagates, the entry stays
    pending and is delivered again (to this consumer when it restarts, or to another one
    after ``reclaim_after`` seconds). A malformed entry raises :class:`BadEvent` the same
    way. Returns the number of events handled, when ``max_events`` were handled, after
    ``idle_exit`` seconds without one, or within ``block`` seconds of SIGTERM/SIGINT (with
    ``handle_signals``, in the main thread) or of ``stop`` being set.
    """
    if client is None:
        if redis_url is None:
            raise ValueError("consume() needs redis_url or client")
        client = redis.Redis.from_url(redis_url, decode_responses=True)
    stop = stop or threading.Event()
    ensure_group(client, stream, group, start=start)
    loop = _Loop(client, stream, group, consumer, on_trimmed)

    def wanted() -> int:
        return batch if max_events is None else min(batch, max_events - loop.handled)

    with _stop_on_signals(stop, handle_signals):
        loop.handle(read_own_pending(client, stream, group, consumer, count=wanted()), handler)
        loop.check_trimmed()
        idle_since = time.monotonic()
        while not stop.is_set() and wanted() > 0:
            entries = read_group(
                client,
                stream,
                group,
                consumer,
                count=wanted(),
                block_ms=max(1, int(block * 1000)),
                reclaim_idle_ms=int(reclaim_after * 1000),
            )
            if entries:
                loop.handle(entries, handler)
                idle_since = time.monotonic()
                continue
            loop.check_trimmed()
            if idle_exit is not None and time.monotonic() - idle_since >= idle_exit:
                break
    return loop.handled
