"""The poller: claim due feeds -> fetch (conditional GET) -> parse -> unseen entries -> enqueue.

Several pollers may share one registry: claiming is atomic (see ``service.registry``), so no
feed is polled by two at once, and a poller that dies releases its feeds when their lease
ends. HTTP is async with a global and a per-host bound; Redis calls are short and local.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
from kombu.exceptions import OperationalError

from service.discovery import document_kind
from service.errors import IngestError, NotModified, PermanentError, TransientError
from service.feeds import parse_feed
from service.fetching import AsyncFetcher
from service.fetching.client import address_guard
from service.hashing import short_hash
from service.logs import get_logger
from service.models import DeadLetter, FeedEntry, FetchedPage, ParsedFeed
from service.observability import metrics
from service.registry import FeedState, Registry
from service.schedule import Bounds, error_backoff, honour_hints, learned_interval
from service.settings import Settings
from service.sitemap_reader import read_sitemap, sitemap_limits
from service.sources import SourceKind, record_enqueued
from service.streams import Streams
from service.websub.lock import entries_lock
from service.websub.manager import WebSub

log = get_logger("newswire.poller")
EnqueueFn = Callable[[str, str, dict[str, Any] | None], None]


@dataclass
class PollStats:
    """Counters of one poller process (also exported as metrics)."""

    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    entries_enqueued: int = 0


class Poller:
    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        streams: Streams,
        fetcher: AsyncFetcher,
        enqueue: EnqueueFn,
        *,
        clock: Callable[[], float] = time.time,
        websub: WebSub | None = None,
    ) -> None:
        self.settings = settings
        self.websub = websub
        self.registry = registry
        self.streams = streams
        self.fetcher = fetcher
        self.links = address_guard(settings)  # which image/content links entries may keep
        self.enqueue = enqueue
        self.clock = clock
        self.bounds = Bounds(
            settings.poll_interval_min, settings.poll_interval_max, settings.poll_interval_default
        )
        self.stats = PollStats()
        self._inflight: set[asyncio.Task[str]] = set()
        self._hosts: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.poll_per_host)
        )

    # -- loop -------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Tick until ``stop`` is set, then let the polls under way finish."""
        failures = 0
        log.info("poller_started", feeds=self._safe_count())
        while not stop.is_set():
            try:
                self.tick()
                if failures:
                    log.info("redis_reconnected", after_failures=failures)
                failures = 0
            except redis.RedisError as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("redis_unavailable", error=str(exc), retry_in=delay)
                await _sleep_or_stop(stop, delay)
                continue
            await _sleep_or_stop(stop, self.settings.poll_tick)
        await self.drain()
        log.info("poller_stopped")

    def tick(self) -> int:
        """Claim as many due feeds as there is room for and start polling them."""
        room = self.settings.poll_concurrency - len(self._inflight)
        if room <= 0:
            return 0
        ids, lease_until = self.registry.claim_due(now=self.clock(), limit=room)
        for fid in ids:
            task = asyncio.get_running_loop().create_task(self.poll(fid, lease_until))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(ids)

    async def drain(self, timeout: float | None = None) -> None:
        if self._inflight:
            limit = timeout or self.settings.fetch_timeout * 2
            await asyncio.wait(set(self._inflight), timeout=limit)

    # -- one feed -----------------------------------------------------------------------
    async def poll(self, fid: str, lease_until: float) -> str:
        """Poll one claimed feed; never raises (a failure is logged and counted)."""
        try:
            outcome = await self._poll_claimed(fid, lease_until)
        except (redis.RedisError, OperationalError) as exc:
            # Nothing was marked seen: the lease ends and the feed is polled again then.
            log.warning("poll_interrupted", feed_id=fid, error=str(exc))
            outcome = "interrupted"
        self.stats.outcomes[outcome] += 1
        metrics.record_poll(outcome)
        return outcome

    async def _poll_claimed(self, fid: str, lease_until: float) -> str:
        state = self.registry.state(fid)
        if state is None:  # removed since it was scheduled
            self.registry.client.zrem(self.registry.schedule_key, fid)
            return "removed"
        started = self.clock()
        try:
            outcome, due = await self._poll_state(state)
        except (redis.RedisError, OperationalError):
            raise
        except Exception:  # a bug must not stop the poller or lose the feed's schedule
            log.exception("poll_bug", feed=state.url)
            outcome, due = "error", started + self.bounds.maximum
        if self.websub is not None:  # subscribed: the next poll is only a safety net
            due = self.websub.poll_due(fid, started, due, state.interval)
        state.last_poll_at = started
        state.next_poll_at = due
        self.registry.save_state(state)
        if not self.registry.reschedule(fid, lease_until=lease_until, due_at=due):
            log.warning("lease_lost", feed=state.url)
        return outcome

    async def _poll_state(self, state: FeedState) -> tuple[str, float]:
        now = self.clock()
        try:
            async with self._hosts[_host(state.url)]:
                page = await self.fetcher.fetch(
                    state.url,
                    kind="feed",
                    etag=state.etag or None,
                    last_modified=state.last_modified or None,
                )
        except NotModified:
            return self._quiet(state, "not_modified", now), now + state.interval
        except IngestError as exc:
            return "error", now + self._failed(state, exc)
        body_hash = short_hash(page.content.decode("latin-1"))
        state.etag, state.last_modified = page.etag or "", page.last_modified or ""
        if body_hash == state.body_hash:
            return self._quiet(state, "unchanged", now), now + state.interval
        try:
            feed = await self._parse(state, page, now)
        except IngestError as exc:
            return "error", now + self._failed(state, exc)
        async with self._entries_lock(state.id):
            new = self._enqueue_new(state, feed)
        if self.websub is not None and state.kind == "feed":
            self.websub.discovered(state.id, page)
        state.body_hash = body_hash
        self._recovered(state)
        state.interval = honour_hints(
            learned_interval(
                state.interval,
                self.bounds,
                new_entries=new,
                published=[e.published_at for e in feed.entries if e.published_at],
            ),
            self.bounds,
            hints=[feed.ttl_seconds, page.cache_control_max_age],
        )
        state.last_result = "fetched"
        state.title = state.title or (feed.title or "")
        if new:
            state.last_new_at = now
        log.info(
            "feed_polled",
            feed=state.url,
            entries=len(feed.entries),
            new=new,
            next_in=round(state.interval, 1),
        )
        return "fetched", now + state.interval

    async def _parse(self, state: FeedState, page: FetchedPage, now: float) -> ParsedFeed:
        """The document as entries: a sitemap (by its content) or a feed."""
        state.kind = "sitemap" if document_kind(page.content) == "sitemap" else "feed"
        if state.kind == "sitemap":
            return await read_sitemap(
                page,
                source_url=state.url,
                limits=sitemap_limits(self.settings, now),
                fetch=self._fetch_child,
                on_error=lambda url, exc: self._child_failed(state, url, exc),
            )
        return await asyncio.to_thread(
            parse_feed,
            page.content,
            url=page.url,
            content_type=page.content_type,
            max_items=self.settings.max_items_per_poll,
            max_bytes=self.settings.max_feed_bytes,
            links=self.links,
        )

    async def _fetch_child(self, url: str) -> FetchedPage:
        async with self._hosts[_host(url)]:
            return await self.fetcher.fetch(url, kind="feed")

    def _child_failed(self, state: FeedState, url: str, exc: IngestError) -> None:
        log.warning("sitemap_child_failed", feed=state.url, child=url, reason=exc.reason.value)
        self.streams.dead_letter(
            DeadLetter(
                type="feed.failed",
                url=url,
                feed_url=state.url,
                reason=exc.reason.value,
                detail=exc.detail,
                failed_at=datetime.now(UTC),
            )
        )

    def _quiet(self, state: FeedState, result: str, now: float) -> str:
        self._recovered(state)
        state.last_result = result
        state.interval = learned_interval(state.interval, self.bounds, new_entries=0, published=())
        return result

    async def ingest_pushed(self, fid: str, page: FetchedPage) -> int:
        """A WebSub push of a feed's content, handled exactly like a poll of it (same parser,
        seen-set, enqueue, metrics); returns the entries enqueued."""
        state = self.registry.state(fid)
        if state is None:
            return 0
        feed = await self._parse(state, page, self.clock())
        async with self._entries_lock(fid):
            new = self._enqueue_new(state, feed, source="pushed")
        if new:
            self.registry.client.hset(self.registry.state_key(fid), "last_new_at", self.clock())
        log.info("feed_pushed", feed=state.url, entries=len(feed.entries), new=new)
        return new

    def _entries_lock(self, fid: str) -> AbstractAsyncContextManager[None]:
        if self.websub is None:  # polls only: claims already keep a feed to one poll
            return nullcontext()
        return entries_lock(self.registry.client, self.settings.key_prefix, fid)

    def _enqueue_new(
        self, state: FeedState, feed: ParsedFeed, *, source: SourceKind | None = None
    ) -> int:
        todo = self.registry.classify(state.id, feed.entries)
        if not self.settings.republish_updated:
            todo = [(e, kind) for e, kind in todo if kind == "new"]
        for entry, _kind in todo:
            self._enqueue_entry(state, feed, entry)
        # Enqueue first, then remember: a crash in between re-enqueues (publishing is
        # idempotent), whereas the other order could lose an entry.
        state.entries_seen = self.registry.mark_seen(
            state.id, [e for e, _ in todo], now=self.clock()
        )
        self.stats.entries_enqueued += len(todo)
        kind: SourceKind = source or ("sitemap" if state.kind == "sitemap" else "feed")
        record_enqueued(self.registry.client, self.settings.key_prefix, kind, len(todo))
        metrics.record_entries(len(feed.entries), [kind for _e, kind in todo])
        return len(todo)

    def _enqueue_entry(self, state: FeedState, feed: ParsedFeed, entry: FeedEntry) -> None:
        if not entry.url:
            self.streams.dead_letter(
                DeadLetter(
                    type="article.failed",
                    url=entry.entry_id,
                    feed_url=state.url,
                    reason="bad_url",
                    detail="feed entry has no http(s) link",
                    failed_at=datetime.now(UTC),
                )
            )
            return
        self.enqueue(entry.url, state.url, entry.model_dump(mode="json"))

    # -- failures ----------------------------------------------------------------------
    def _failed(self, state: FeedState, exc: IngestError) -> float:
        state.consecutive_errors += 1
        state.last_result = "error"
        state.last_error = str(exc)[:500]
        permanent = isinstance(exc, PermanentError)
        report = permanent or state.consecutive_errors >= self.settings.feed_failure_threshold
        if report and not state.failure_reported:
            state.failure_reported = 1
            self.streams.dead_letter(
                DeadLetter(
                    type="feed.failed",
                    url=state.url,
                    feed_url=state.url,
                    reason=exc.reason.value,
                    detail=exc.detail,
                    attempts=state.consecutive_errors,
                    failed_at=datetime.now(UTC),
                )
            )
        retry_after = exc.retry_after if isinstance(exc, TransientError) else None
        log.warning(
            "feed_failed",
            feed=state.url,
            reason=exc.reason.value,
            detail=exc.detail,
            consecutive=state.consecutive_errors,
            permanent=permanent,
        )
        return error_backoff(self.bounds, state.consecutive_errors, retry_after=retry_after)

    @staticmethod
    def _recovered(state: FeedState) -> None:
        if state.consecutive_errors:
            log.info("feed_recovered", feed=state.url, after_errors=state.consecutive_errors)
        state.consecutive_errors = 0
        state.failure_reported = 0
        state.last_error = ""

    def _safe_count(self) -> int:
        try:
            return self.registry.count()
        except redis.RedisError:
            return -1


def _host(url: str) -> str:
    from service.urls import host_of

    return host_of(url)


async def _sleep_or_stop(stop: asyncio.Event, delay: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
    except TimeoutError:
        return
