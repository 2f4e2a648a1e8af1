"""WebSub in a poller: subscribe when a polled feed advertises a hub, renew leases, notice
lapses and failed requests (polling then resumes at the feed's own interval), and slow
polling to the safety-net interval while a subscription is active.

One subscription per feed for the whole deployment: requests are recorded atomically in
Redis (``SubscriptionStore.begin``) and due renewals are claimed atomically, so however many
pollers run, one of them asks. Redis calls run in threads: nothing blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import redis

from service.errors import IngestError
from service.logs import get_logger
from service.models import FetchedPage
from service.registry import Registry
from service.settings import Settings
from service.websub.links import Hub, find_hub
from service.websub.requests import AsyncHubClient, subscription_form
from service.websub.store import Subscription, SubscriptionStore

log = get_logger("newswire.websub")
REQUEST_TIMEOUT = 300.0  # a request no hub verified within this long is sent again
RETRY_AFTER_FAILURE = 300.0  # a hub that failed is asked again after this long
DENIED_RETRY = 86_400.0
CLAIM = 60.0  # a claimed renewal is reserved this long for the poller that took it
RENEW_AT = 0.5  # renew when half the lease has passed (room for a failed attempt or two)


def callback_url(settings: Settings, fid: str) -> str:
    return f"{(settings.public_url or '').rstrip('/')}/websub/{fid}"


class WebSub:
    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        store: SubscriptionStore,
        hubs: AsyncHubClient,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.store = store
        self.hubs = hubs
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    # -- hooks of the poller ---------------------------------------------------------
    def discovered(self, fid: str, page: FetchedPage) -> None:
        """A feed was fetched: subscribe in the background if it advertises a hub."""
        task = asyncio.get_running_loop().create_task(self._check(fid, page))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def poll_due(self, fid: str, started: float, due: float, interval: float) -> float:
        """While subscribed, the next poll is a safety net: never sooner than the feed's
        own interval, nor than ``websub_poll_interval``."""
        sub = self.store.get(fid)
        if sub is None or not sub.active(self.clock()):
            return due
        return max(due, started + max(self.settings.websub_poll_interval, interval))

    # -- background ------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        tick = min(self.settings.poll_tick * 5, 5.0)
        while not stop.is_set():
            try:
                await self.tick()
            except redis.RedisError as exc:
                log.warning("websub_redis_unavailable", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=tick)
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.settings.fetch_timeout)

    async def tick(self) -> None:
        now = self.clock()
        ids = await asyncio.to_thread(self.store.claim_due, now=now, claim=CLAIM)
        for fid in ids:
            await self._due(fid, now)

    async def _due(self, fid: str, now: float) -> None:
        sub = await asyncio.to_thread(self.store.get, fid)
        registered = await asyncio.to_thread(self.registry.state, fid)
        if sub is None or sub.state == "unsubscribing" or registered is None:
            await asyncio.to_thread(self.store.delete, fid)  # removed, or never confirmed
            return
        if sub.state == "active" and sub.lease_end <= now:
            log.warning("websub_lease_lapsed", feed=registered.url, hub=sub.hub)
            await asyncio.to_thread(self._resume_polling, fid, now)
        await asyncio.to_thread(self.store.renewing, fid, now=now, retry_at=now + REQUEST_TIMEOUT)
        await self._request(sub, now)

    # -- requests --------------------------------------------------------------------
    async def _check(self, fid: str, page: FetchedPage) -> None:
        try:
            sub = await asyncio.to_thread(self.store.get, fid)
            if sub is not None and sub.state in ("requested", "active", "denied"):
                return
            found = await asyncio.to_thread(find_hub, page.content, page.links, url=page.url)
            if found is not None:
                await self._subscribe(fid, found)
        except redis.RedisError as exc:
            log.warning("websub_redis_unavailable", error=str(exc))

    async def _subscribe(self, fid: str, found: Hub) -> None:
        now = self.clock()
        began = await asyncio.to_thread(
            self.store.begin,
            fid,
            hub=found.hub,
            topic=found.topic,
            now=now,
            retry_at=now + REQUEST_TIMEOUT,
        )
        sub = await asyncio.to_thread(self.store.get, fid) if began else None
        if sub is not None:
            await self._request(sub, now)

    async def _request(self, sub: Subscription, now: float) -> None:
        form = subscription_form(
            "subscribe",
            topic=sub.topic,
            callback=callback_url(self.settings, sub.feed_id),
            secret=sub.secret,
            lease_seconds=self.settings.websub_lease_seconds,
        )
        try:
            await self.hubs.send(sub.hub, form)
        except IngestError as exc:
            await asyncio.to_thread(self._request_failed, sub, exc, now)
            return
        log.info("websub_requested", feed_id=sub.feed_id, hub=sub.hub, topic=sub.topic)

    def _request_failed(self, sub: Subscription, exc: IngestError, now: float) -> None:
        log.warning("websub_request_failed", hub=sub.hub, reason=exc.reason.value, detail=str(exc))
        if sub.active(now):  # the lease still holds: try again well before it ends
            retry = now + max(min(RETRY_AFTER_FAILURE, (sub.lease_end - now) / 2), 0.2)
        else:
            retry = now + RETRY_AFTER_FAILURE
            self._resume_polling(sub.feed_id, now)
        self.store.set_state(sub.feed_id, sub.state, due_at=retry)

    def _resume_polling(self, fid: str, now: float) -> None:
        """Due now (only ever sooner): polling takes over at the feed's own interval."""
        self.registry.client.zadd(self.registry.schedule_key, {fid: now}, xx=True, lt=True)
