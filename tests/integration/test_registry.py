"""Feed registry, atomic claims and bounded seen-sets against a real Redis."""

from __future__ import annotations

import threading

import redis

from service.models import FeedEntry
from service.registry import Registry, feed_id
from service.settings import Settings

URL = "https://news.example.com/rss"


def entry(i: int, title: str = "t") -> FeedEntry:
    return FeedEntry(
        feed_url=URL, entry_id=f"id-{i}", url=f"https://news.example.com/{i}", title=title
    )


def test_adding_twice_is_harmless(redis_client: redis.Redis, settings: Settings) -> None:
    registry = Registry(redis_client, settings)
    assert registry.add(URL, "News", now=1000.0)
    assert not registry.add(URL, None, now=2000.0)
    assert not registry.add("HTTPS://News.Example.com:443/rss#x", None, now=2000.0)
    assert registry.urls() == {feed_id(URL): URL}
    state = registry.state(feed_id(URL))
    assert state is not None
    assert (state.title, state.added_at) == ("News", 1000.0)


def test_new_feed_is_due_at_once_and_claimed_once(
    redis_client: redis.Redis, settings: Settings
) -> None:
    registry = Registry(redis_client, settings)
    registry.add(URL, None, now=1000.0)
    ids, lease = registry.claim_due(now=1000.0, limit=10)
    assert ids == [feed_id(URL)]
    assert registry.claim_due(now=1001.0, limit=10)[0] == []  # leased
    assert registry.claim_due(now=lease + 1, limit=10)[0] == ids  # lease over: reclaimed


def test_concurrent_claims_never_share_a_feed(
    redis_client: redis.Redis, settings: Settings
) -> None:
    registry = Registry(redis_client, settings)
    for i in range(500):
        registry.add(f"https://h{i % 7}.example.com/feed/{i}", None, now=0.0)
    claimed: list[list[str]] = [[] for _ in range(4)]

    def claimer(slot: int) -> None:
        own = Registry(redis.Redis.from_url(settings.effective_redis_url), settings)
        while True:
            ids, _ = own.claim_due(now=10.0, limit=7)
            if not ids:
                return
            claimed[slot] += ids

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for part in claimed for i in part]
    assert len(everything) == 500
    assert len(set(everything)) == 500


def test_reschedule_only_with_a_valid_lease(redis_client: redis.Redis, settings: Settings) -> None:
    registry = Registry(redis_client, settings)
    registry.add(URL, None, now=0.0)
    (fid,), lease = registry.claim_due(now=0.0, limit=1)
    assert registry.reschedule(fid, lease_until=lease, due_at=500.0)
    assert not registry.reschedule(fid, lease_until=lease, due_at=900.0)  # lease spent
    assert registry.next_due() == 500.0
    registry.remove(URL)
    assert not registry.reschedule(fid, lease_until=500.0, due_at=900.0)  # removed feed
    assert registry.next_due() is None


def test_seen_set_tells_new_from_changed_and_stays_bounded(
    redis_client: redis.Redis, settings: Settings
) -> None:
    small = settings.model_copy(update={"seen_per_feed": 10})
    registry = Registry(redis_client, small)
    fid = feed_id(URL)
    first = [entry(i) for i in range(5)]
    assert [k for _, k in registry.classify(fid, first)] == ["new"] * 5
    registry.mark_seen(fid, first, now=1.0)
    assert registry.classify(fid, first) == []
    edited = [entry(0, title="edited"), entry(5)]
    assert [(e.entry_id, k) for e, k in registry.classify(fid, edited)] == [
        ("id-0", "changed"),
        ("id-5", "new"),
    ]
    registry.mark_seen(fid, [entry(i) for i in range(100, 130)], now=2.0)
    assert redis_client.zcard(f"{small.key_prefix}:seen:{fid}") == 10
    assert redis_client.hlen(f"{small.key_prefix}:seenfp:{fid}") == 10
