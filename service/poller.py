"""The poller: claim due feeds -> fetch (conditional GET) -> parse -> unseen entries -> enqueue.

Several pollers may share one registry: claiming is atomic and leases are kept on Redis'
clock (see ``service.registry``), so no feed is polled by two at once, and a poller that dies
releases its feeds when their lease ends. A feed is claimed only when this poller has a free
slot for its host (``poll_per_host``) and is not polling it already, so a claim never waits
and never outlives its lease in a queue. The lease is renewed before anything is enqueued,
and checked again (atomically) when the state is saved: a poll whose lease was lost has no
effect. HTTP runs on the event loop; every blocking call (Redis, the broker's ``send_task``)
runs in a worker thread, so a slow broker never stops the fetches in flight.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import redis
from kombu.exceptions import OperationalError

from service.caps import capped_entry
from service.discovery import document_kind
from service.errors import IngestError, NotModified, PermanentError, TransientError
from service.feeds import FeedMemory, FeedUpdate, parse_feed_update
from service.fetching import AsyncFetcher
from service.fetching.client import address_guard
from service.hashing import short_hash
from service.logs import get_logger
from service.models import DeadLetter, FeedEntry, FetchedPage, ParsedFeed
from service.observability import metrics
from service.registry import FeedState, Registry
from service.schedule import Bounds, choose_claims, error_backoff, honour_hints, learned_interval
from service.settings import Settings
from service.sitemap_reader import read_sitemap, sitemap_limits
from service.sources import SourceKind, record_enqueued
from service.streams import Streams
from service.urls import host_of
from service.websub.lock import entries_lock
from service.websub.manager import WebSub

log = get_logger("newswire.poller")
EnqueueFn = Callable[[str, str, dict[str, Any] | None], None]
T = TypeVar("T")


class LeaseLost(Exception):
    """Another poller claimed the feed after this poller's lease ended: drop the poll."""


@dataclass
class Claim:
    """One feed this poller holds; ``lease`` is its lease end as Redis stored it."""

    fid: str
    host: str
    lease: str


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
        # This machine's clock: only for the stamps shown to people (last poll, last new
        # entry). Due times and leases are Redis' clock.
        self.clock = clock
        self.bounds = Bounds(
            settings.poll_interval_min, settings.poll_interval_max, settings.poll_interval_default
        )
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._polls: dict[str, asyncio.Task[str]] = {}  # feed id -> its poll
        self._host_load: Counter[str] = Counter()  # host -> polls of it under way
        # Blocking I/O off the event loop: one thread per poll at most, plus the tick.
        self._io = ThreadPoolExecutor(
            max_workers=settings.poll_concurrency + 2, thread_name_prefix="newswire-io"
        )

    # -- loop -------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Tick until ``stop`` is set, then let the polls under way finish."""
        failures = 0
        log.info("poller_started", feeds=await self._call(self._safe_count), owner=self.owner)
        while not stop.is_set():
            try:
                await self.tick()
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
        self._io.shutdown(wait=False, cancel_futures=True)
        log.info("poller_stopped")

    async def tick(self) -> int:
        """Claim as many due feeds as there is room and host slots for; start polling them."""
        room = self.settings.poll_concurrency - len(self._polls)
        if room <= 0:
            return 0
        # Look further than ``room``: the first due feeds may all be of busy hosts.
        due = await self._call(self.registry.due, min(1000, room + len(self._polls) + 4 * room))
        chosen = choose_claims(
            [(fid, host_of(url)) for fid, url in due],
            room=room,
            polling=self._polls.keys(),
            host_load=self._host_load,
            per_host=self.settings.poll_per_host,
        )
        if not chosen:
            return 0
        hosts = dict(chosen)
        ids, lease = await self._call(self.registry.claim, list(hosts), owner=self.owner)
        for fid in ids:
            self._start(Claim(fid, hosts[fid], lease))
        return len(ids)

    def _start(self, claim: Claim) -> None:
        self._host_load[claim.host] += 1
        task = asyncio.get_running_loop().create_task(self.poll(claim))
        self._polls[claim.fid] = task

        def done(_task: asyncio.Task[str]) -> None:
            self._polls.pop(claim.fid, None)
            self._host_load[claim.host] -= 1
            if self._host_load[claim.host] <= 0:
                del self._host_load[claim.host]

        task.add_done_callback(done)

    async def drain(self, timeout: float | None = None) -> None:
        if self._polls:
            limit = timeout or self.settings.fetch_timeout * 2
            await asyncio.wait(set(self._polls.values()), timeout=limit)

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking call (Redis, the broker) in a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._io, partial(fn, *args, **kwargs))

    # -- one feed -----------------------------------------------------------------------
    async def poll(self, claim: Claim) -> str:
        """Poll one claimed feed; never raises (a failure is logged and counted)."""
        try:
            outcome = await self._poll_claimed(claim)
        except (redis.RedisError, OperationalError) as exc:
            # Nothing was marked seen: the lease ends and the feed is polled again then.
            log.warning("poll_interrupted", feed_id=claim.fid, error=str(exc))
            outcome = "interrupted"
        except LeaseLost:
            log.warning("lease_lost", feed_id=claim.fid)
            outcome = "lease_lost"
        metrics.record_poll(outcome)
        return outcome

    async def _poll_claimed(self, claim: Claim) -> str:
        state = await self._call(self.registry.state, claim.fid)
        if state is None:  # removed since it was scheduled
            await self._call(self.registry.forget, claim.fid)
            return "removed"
        started = self.clock()
        try:
            outcome, due_in = await self._poll_state(state, claim)
        except (redis.RedisError, OperationalError, LeaseLost):
            raise
        except Exception:  # a bug must not stop the poller or lose the feed's schedule
            log.exception("poll_bug", feed=state.url)
            outcome, due_in = "error", self.bounds.maximum
        if self.websub is not None:  # subscribed: the next poll is only a safety net
            due_in = await self._call(self.websub.poll_due, claim.fid, 0.0, due_in, state.interval)
        state.last_poll_at = started
        if not await self._call(self.registry.finish, state, claim.lease, due_in=due_in):
            raise LeaseLost(claim.fid)
        return outcome

    async def _poll_state(self, state: FeedState, claim: Claim) -> tuple[str, float]:
        """Fetch and process one feed; returns the outcome and when it is due again (s)."""
        try:
            page = await self.fetcher.fetch(
                state.url,
                kind="feed",
                etag=state.etag or None,
                last_modified=state.last_modified or None,
            )
        except NotModified:
            return self._quiet(state, "not_modified"), state.interval
        except IngestError as exc:
            return "error", await self._call(self._failed, state, exc)
        body_hash = short_hash(page.content)
        state.etag, state.last_modified = page.etag or "", page.last_modified or ""
        if body_hash == state.body_hash:
            return self._quiet(state, "unchanged"), state.interval
        try:
            update = await self._parse(state, page, remembered=True)
        except IngestError as exc:
            return "error", await self._call(self._failed, state, exc)
        async with self._entries_lock(state.id):
            new = await self._call(self._deliver, state, update, claim)
        if self.websub is not None and state.kind == "feed":
            self.websub.discovered(state.id, page)
        state.body_hash = body_hash
        self._learn(state, update, page, new)
        return "fetched", state.interval

    async def _parse(
        self, state: FeedState, page: FetchedPage, *, remembered: bool = False
    ) -> FeedUpdate:
        """The document as entries: a sitemap (by its content) or a feed; ``remembered``:
        a feed's items met last time are not parsed again (``service.feeds.memory``)."""
        state.kind = "sitemap" if document_kind(page.content) == "sitemap" else "feed"
        if state.kind == "sitemap":
            slots = asyncio.Semaphore(self.settings.poll_per_host)  # its children, at once

            async def fetch_child(url: str) -> FetchedPage:
                async with slots:
                    return await self.fetcher.fetch(url, kind="feed")

            sitemap = await read_sitemap(
                page,
                source_url=state.url,
                limits=sitemap_limits(self.settings, self.clock()),
                fetch=fetch_child,
                on_error=lambda url, exc: self._child_failed(state, url, exc),
            )
            return FeedUpdate(sitemap)
        # The default executor's few threads, not the I/O pool's: parses at once (and the
        # memory they hold) stay few, whatever the poll concurrency.
        return await asyncio.to_thread(self._parse_feed, page, state.id if remembered else None)

    def _parse_feed(self, page: FetchedPage, fid: str | None) -> FeedUpdate:
        """(Worker thread.) Parse a feed document, skipping the items the feed ``fid``
        remembers (its item memory is read here, in the same thread hop)."""
        memory = FeedMemory.loads(self.registry.item_memory(fid)) if fid else FeedMemory()
        return parse_feed_update(
            page.content,
            url=page.url,
            content_type=page.content_type,
            encoding=page.encoding,
            max_items=self.settings.max_items_per_poll,
            max_bytes=self.settings.max_feed_bytes,
            links=self.links,
            memory=memory,
        )

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

    async def ingest_pushed(self, fid: str, page: FetchedPage) -> int:
        """A WebSub push of a feed's content, handled exactly like a poll of it (same parser,
        seen-set, enqueue, metrics); returns the entries enqueued."""
        state = await self._call(self.registry.state, fid)
        if state is None:
            return 0
        feed = (await self._parse(state, page)).feed
        async with self._entries_lock(fid):
            new = await self._call(self._enqueue_new, state, feed, source="pushed")
        if new:
            await self._call(
                self.registry.client.hset, self.registry.state_key(fid), "last_new_at", self.clock()
            )
        log.info("feed_pushed", feed=state.url, entries=len(feed.entries), new=new)
        return new

    def _entries_lock(self, fid: str) -> AbstractAsyncContextManager[None]:
        if self.websub is None:  # polls only: claims already keep a feed to one poll
            return nullcontext()
        return entries_lock(self.registry.client, self.settings.key_prefix, fid)

    def _learn(self, state: FeedState, update: FeedUpdate, page: FetchedPage, new: int) -> None:
        feed = update.feed
        self._recovered(state)
        state.interval = honour_hints(
            learned_interval(
                state.interval,
                self.bounds,
                new_entries=new,
                published=update.published(),  # of skipped items too
            ),
            self.bounds,
            hints=[feed.ttl_seconds, page.cache_control_max_age],
        )
        state.last_result = "fetched"
        state.title = state.title or (feed.title or "")
        if new:
            state.last_new_at = self.clock()
        log.info(
            "feed_polled",
            feed=state.url,
            entries=update.entries_total,
            new=new,
            next_in=round(state.interval, 1),
        )

    def _quiet(self, state: FeedState, result: str) -> str:
        self._recovered(state)
        state.last_result = result
        state.interval = learned_interval(state.interval, self.bounds, new_entries=0, published=())
        return result

    def _deliver(self, state: FeedState, update: FeedUpdate, claim: Claim) -> int:
        """(Worker thread.) Renew the lease, then enqueue and remember the entries, then
        the items they came from (the item memory: after the seen-set, never before)."""
        # Renewed first: if another poller took the feed over meanwhile, it enqueues them.
        lease, todo = self.registry.renew_and_classify(claim.fid, claim.lease, update.feed.entries)
        if lease is None:
            raise LeaseLost(claim.fid)
        claim.lease = lease
        return self._enqueue_new(
            state,
            update.feed,
            discovered=update.entries_total,
            todo=todo,
            memory=update.memory.dumps(),
        )

    def _enqueue_new(
        self,
        state: FeedState,
        feed: ParsedFeed,
        *,
        source: SourceKind | None = None,
        discovered: int | None = None,
        todo: list[tuple[FeedEntry, str]] | None = None,
        memory: bytes | None = None,
    ) -> int:
        """(Worker thread.) Enqueue the new and changed entries (``todo``: classified
        already), then remember them and, after them, the feed's item ``memory``."""
        if todo is None:
            todo = self.registry.classify(state.id, feed.entries)
        if not self.settings.republish_updated:
            todo = [(e, kind) for e, kind in todo if kind == "new"]
        for entry, _kind in todo:
            self._enqueue_entry(state, entry)
        # Enqueue first, then remember: a crash in between re-enqueues (publishing is
        # idempotent), whereas the other order could lose an entry.
        kind: SourceKind = source or ("sitemap" if state.kind == "sitemap" else "feed")
        state.entries_seen = self.registry.mark_seen(
            state.id,
            [e for e, _ in todo],
            now=self.clock(),
            memory=memory,
            also=partial(
                record_enqueued, prefix=self.settings.key_prefix, kind=kind, count=len(todo)
            ),
        )
        total = len(feed.entries) if discovered is None else discovered
        metrics.record_entries(total, [kind for _e, kind in todo])
        return len(todo)

    def _enqueue_entry(self, state: FeedState, entry: FeedEntry) -> None:
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
        capped = capped_entry(entry, self.settings.max_entry_content_chars)  # it travels
        self.enqueue(entry.url, state.url, capped.model_dump(mode="json"))

    # -- failures ----------------------------------------------------------------------
    def _failed(self, state: FeedState, exc: IngestError) -> float:
        """(Worker thread: it may write a dead letter.) Returns the back-off delay."""
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


async def _sleep_or_stop(stop: asyncio.Event, delay: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
    except TimeoutError:
        return
