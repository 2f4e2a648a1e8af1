"""The poller parses only what is new: its item memory in Redis, next to the seen-set.

An in-process poller against the session's redis-server and a local origin: the second
poll of a changed feed enqueues the new item and the edited story (same id, other bytes:
``changed``), nothing else; the memory holds the items of the last document only, and is
removed with the feed.
"""

from __future__ import annotations

import asyncio

import redis

from service.feeds import FeedMemory
from service.fetching import AsyncFetcher
from service.poller import Claim, Poller
from service.registry import Registry, feed_id
from service.settings import Settings
from service.streams import Streams
from tests.support.origin import Origin
from tests.support.sitegen import rss_feed


def only_feed_url(registry: Registry) -> str:
    """The one feed registered."""
    (url,) = registry.urls().values()
    return url


def poll_once(settings: Settings, client: redis.Redis, enqueued: list[tuple[str, str]]) -> str:
    registry = Registry(client, settings)
    client.zadd(registry.schedule_key, {feed_id(only_feed_url(registry)): 0})  # due now

    async def run() -> str:
        async with AsyncFetcher(settings) as fetcher:
            poller = Poller(
                settings,
                registry,
                Streams(client, settings),
                fetcher,
                lambda url, _feed, entry: enqueued.append((url, (entry or {})["title"])),
            )
            ids, lease = registry.claim_due(1, owner=poller.owner)
            return await poller.poll(Claim(ids[0], "", lease))

    return asyncio.run(run())


def test_a_changed_feed_is_parsed_for_its_new_and_edited_items_only(
    origin: Origin, redis_client: redis.Redis, settings: Settings
) -> None:
    base = origin.url("")
    origin.add("/feed.xml", rss_feed([0, 1, 2], base=base), content_type="application/rss+xml")
    url = origin.url("/feed.xml")
    registry = Registry(redis_client, settings)
    registry.add(url, None, now=0)
    fid = feed_id(url)
    enqueued: list[tuple[str, str]] = []
    assert poll_once(settings, redis_client, enqueued) == "fetched"
    assert sorted(t for _u, t in enqueued) == [f"Story number {i}" for i in range(3)]
    assert len(FeedMemory.loads(registry.item_memory(fid)).items) == 3

    changed = rss_feed([1, 2, 3, 4], base=base).replace(
        "<title>Story number 2</title>", "<title>Story number 2, corrected</title>"
    )
    origin.add("/feed.xml", changed, content_type="application/rss+xml")
    enqueued.clear()
    assert poll_once(settings, redis_client, enqueued) == "fetched"
    assert sorted(t for _u, t in enqueued) == [
        "Story number 2, corrected",
        "Story number 3",
        "Story number 4",
    ]
    memory = FeedMemory.loads(registry.item_memory(fid))
    assert len(memory.items) == 4  # item 0 left the document: forgotten
    state = registry.state(fid)
    assert state is not None
    assert state.entries_seen == 5

    registry.remove(url)
    assert registry.item_memory(fid) is None


def test_a_feed_declaring_no_charset_is_read_in_the_encoding_the_fetcher_found(
    origin: Origin, redis_client: redis.Redis, settings: Settings
) -> None:
    """No BOM, no XML declaration, no charset in the header: the fetcher detects
    windows-1251 and the poller's parse reads the feed in it (not as windows-1252)."""
    title = "Правительство объявило о новых мерах поддержки экономики"  # noqa: RUF001
    item = f"<item><title>{title}</title><link>{origin.url('/a')}</link></item>"
    body = f'<rss version="2.0"><channel><title>T</title>{item}</channel></rss>'
    origin.add("/cp1251.xml", body.encode("cp1251"), content_type="application/rss+xml")
    Registry(redis_client, settings).add(origin.url("/cp1251.xml"), None, now=0)
    enqueued: list[tuple[str, str]] = []
    assert poll_once(settings, redis_client, enqueued) == "fetched"
    assert enqueued == [(origin.url("/a"), title)]
