"""The poller's claims and leases, against a real Redis, a real broker and a local origin.

Each test drives ``Poller.tick`` on a real event loop with the real ``AsyncFetcher``; the
origin's routes answer late (``delay``) so that polls are in flight when the test acts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import redis

from service.fetching import AsyncFetcher
from service.poller import Poller
from service.queue import Enqueuer, broker_queue_key
from service.registry import Registry, feed_id
from service.settings import Settings
from service.streams import Streams
from tests.support.origin import Origin
from tests.support.proxy import StallingProxy
from tests.support.sitegen import rss_feed

Enqueued = list[str]


def serve_feeds(origin: Origin, paths: list[str], *, delay: float, items: int = 0) -> list[str]:
    base = origin.url("")
    for n, path in enumerate(paths):
        listed = list(range(n * 10, n * 10 + items))
        origin.add(
            path, rss_feed(listed, base=base), content_type="application/rss+xml", delay=delay
        )
    return [origin.url(p) for p in paths]


def register(registry: Registry, urls: list[str]) -> None:
    for url in urls:
        registry.add(url, None, now=0)


def held(client: redis.Redis, registry: Registry) -> int:
    """Feeds whose schedule score is in the future on Redis' clock: claimed (leased)."""
    seconds, micros = client.time()
    return int(client.zcount(registry.schedule_key, f"({seconds + micros / 1e6}", "+inf"))


def polled(registry: Registry, url: str) -> bool:
    """The poll of ``url`` finished: its state was saved."""
    state = registry.state(feed_id(url))
    return state is not None and state.last_poll_at > 0


async def until(predicate: Callable[[], object], *, timeout: float = 20) -> None:
    """Wait on the event loop (polls keep running) until ``predicate()`` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for a condition")
        await asyncio.sleep(0.02)


def make_poller(
    settings: Settings,
    client: redis.Redis,
    fetcher: AsyncFetcher,
    enqueued: Enqueued,
    *,
    clock: Callable[[], float] = time.time,
) -> Poller:
    return Poller(
        settings,
        Registry(client, settings),
        Streams(client, settings),
        fetcher,
        lambda url, _feed, _entry: enqueued.append(url),
        clock=clock,
    )


def run(main: Callable[[AsyncFetcher], Coroutine[Any, Any, None]], settings: Settings) -> None:
    async def wrapper() -> None:
        async with AsyncFetcher(settings) as fetcher:
            await main(fetcher)

    asyncio.run(wrapper())


def test_a_feed_is_claimed_only_when_its_host_has_a_free_slot(
    redis_client: redis.Redis, settings: Settings, origin: Origin
) -> None:
    """Five feeds of one slow host, one slot per host: one claimed, four left due (before,
    all five were claimed and four waited for the slot while their leases ran)."""
    one_slot = settings.model_copy(update={"poll_per_host": 1, "poll_concurrency": 10})
    registry = Registry(redis_client, one_slot)
    paths = [f"/slow{n}.xml" for n in range(5)]
    register(registry, serve_feeds(origin, paths, delay=0.5))
    enqueued: Enqueued = []

    async def main(fetcher: AsyncFetcher) -> None:
        poller = make_poller(one_slot, redis_client, fetcher, enqueued)
        assert await poller.tick() == 1
        assert held(redis_client, registry) == 1
        assert await poller.tick() == 0  # the host's slot is taken: nothing more claimed
        await until(lambda: sum(origin.count(p) for p in paths) == 1 and not poller._polls)
        assert await poller.tick() == 1  # the slot is free again
        await poller.drain()

    run(main, one_slot)
    assert max(origin.peak_inflight(p) for p in paths) == 1


def test_a_feed_in_flight_is_never_claimed_again_by_its_poller(
    redis_client: redis.Redis, settings: Settings, origin: Origin
) -> None:
    """Even if its lease ended meanwhile, a poller does not claim a feed it is polling."""
    registry = Registry(redis_client, settings)
    (url,) = serve_feeds(origin, ["/slow.xml"], delay=1.0)
    register(registry, [url])
    enqueued: Enqueued = []

    async def main(fetcher: AsyncFetcher) -> None:
        poller = make_poller(settings, redis_client, fetcher, enqueued)
        assert await poller.tick() == 1
        await until(lambda: origin.inflight_now(["/slow.xml"]) == 1)
        redis_client.zadd(registry.schedule_key, {feed_id(url): 0})  # the lease "ended"
        assert await poller.tick() == 0
        await poller.drain()

    run(main, settings)
    assert origin.count("/slow.xml") == 1
    assert origin.peak_inflight("/slow.xml") == 1


def test_a_poll_whose_lease_was_taken_over_saves_and_enqueues_nothing(
    redis_client: redis.Redis, settings: Settings, origin: Origin
) -> None:
    """Lease ended mid-poll and another poller claimed the feed: the first one's result is
    dropped (the other poller's poll counts), neither state nor entries are written."""
    registry = Registry(redis_client, settings)
    (url,) = serve_feeds(origin, ["/slow.xml"], delay=1.0, items=3)
    register(registry, [url])
    enqueued: Enqueued = []

    async def main(fetcher: AsyncFetcher) -> None:
        poller = make_poller(settings, redis_client, fetcher, enqueued)
        assert await poller.tick() == 1
        await until(lambda: origin.inflight_now(["/slow.xml"]) == 1)
        redis_client.zadd(registry.schedule_key, {feed_id(url): 0})  # the lease "ended"
        assert registry.claim_due(10, owner="another poller")[0] == [feed_id(url)]
        await poller.drain()

    run(main, settings)
    state = registry.state(feed_id(url))
    assert state is not None
    assert (state.last_poll_at, state.last_result, state.entries_seen) == (0.0, "", 0)
    assert enqueued == []
    assert registry.leases() == {feed_id(url): "another poller"}


def test_skewed_clocks_never_poll_one_feed_twice_at_once(
    redis_client: redis.Redis, settings: Settings, origin: Origin
) -> None:
    """Poller B's clock is an hour ahead of A's: B still sees A's lease (Redis' clock)."""
    registry = Registry(redis_client, settings)
    (url,) = serve_feeds(origin, ["/slow.xml"], delay=1.0)
    register(registry, [url])
    enqueued: Enqueued = []

    async def main(fetcher: AsyncFetcher) -> None:
        a = make_poller(settings, redis_client, fetcher, enqueued)
        b = make_poller(settings, redis_client, fetcher, enqueued, clock=lambda: time.time() + 3600)
        assert await a.tick() == 1
        await until(lambda: origin.inflight_now(["/slow.xml"]) == 1)
        assert await b.tick() == 0
        await a.drain()
        await b.drain()

    run(main, settings)
    assert origin.peak_inflight("/slow.xml") == 1
    assert origin.count("/slow.xml") == 1


def test_a_stalled_broker_does_not_stop_fetches_in_flight(
    redis_client: redis.Redis, settings: Settings, origin: Origin
) -> None:
    """Feed A's entries go to a broker that hangs; feed B, being fetched meanwhile, is
    fetched and saved all the same. Once the broker answers, A's tasks are sent."""
    registry = Registry(redis_client, settings)
    (fast,) = serve_feeds(origin, ["/a.xml"], delay=0, items=3)
    (slow,) = serve_feeds(origin, ["/b.xml"], delay=0.5)
    register(registry, [fast, slow])
    port = int(settings.effective_redis_url.rsplit(":", 1)[1].split("/")[0])
    with StallingProxy(port) as broker:
        enqueuer = Enqueuer(Settings(redis_url=broker.url()))
        broker.stall()

        async def main(fetcher: AsyncFetcher) -> None:
            poller = Poller(
                settings,
                registry,
                Streams(redis_client, settings),
                fetcher,
                enqueuer.enqueue,
            )
            assert await poller.tick() == 2
            await until(lambda: polled(registry, slow))  # B fetched and saved
            assert not polled(registry, fast)  # A: still sending its entries to the broker
            assert redis_client.llen(broker_queue_key(settings) or "") == 0
            broker.release()
            await until(lambda: polled(registry, fast))
            await poller.drain()

        run(main, settings)
        enqueuer.close()
    assert redis_client.llen(broker_queue_key(settings) or "") == 3
