"""Feed registry, atomic claims and bounded seen-sets against a real Redis."""

from __future__ import annotations

import threading
import time

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


def redis_now(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return float(seconds) + micros / 1e6


def expire_lease(registry: Registry, fid: str) -> None:
    """Let the lease of ``fid`` end now, as if ``poll_lease`` had passed on Redis' clock."""
    registry.client.zadd(registry.schedule_key, {fid: redis_now(registry.client) - 1})


def test_new_feed_is_due_at_once_and_claimed_once(
    redis_client: redis.Redis, settings: Settings
) -> None:
    registry = Registry(redis_client, settings)
    registry.add(URL, None, now=1000.0)
    ids, _lease = registry.claim_due(10, owner="a")
    assert ids == [feed_id(URL)]
    assert registry.leases() == {feed_id(URL): "a"}
    assert registry.claim_due(10, owner="b")[0] == []  # leased
    expire_lease(registry, feed_id(URL))
    assert registry.claim_due(10, owner="b")[0] == ids  # lease over: reclaimed
    assert registry.leases() == {feed_id(URL): "b"}


def test_lease_ends_on_redis_clock(redis_client: redis.Redis, settings: Settings) -> None:
    """The lease end is Redis' TIME plus poll_lease, whatever the caller's clock says."""
    registry = Registry(redis_client, settings)
    registry.add(URL, None, now=0.0)
    before = redis_now(redis_client)
    (fid,), lease = registry.claim_due(1, owner="a")
    after = redis_now(redis_client)
    assert before + settings.poll_lease - 0.001 <= float(lease) <= after + settings.poll_lease
    assert redis_client.zscore(registry.schedule_key, fid) == float(lease)


def test_due_lists_urls_and_claim_takes_only_what_is_still_due(
    redis_client: redis.Redis, settings: Settings
) -> None:
    registry = Registry(redis_client, settings)
    urls = [f"https://h{i}.example.com/rss" for i in range(3)]
    for url in urls:
        registry.add(url, None, now=0.0)
    due = registry.due(10)
    assert sorted(url for _fid, url in due) == urls
    first = due[0][0]
    assert registry.claim([first], owner="a")[0] == [first]
    rest = [fid for fid, _ in due]
    assert sorted(registry.claim(rest, owner="b")[0]) == sorted(rest[1:])  # first is leased
    assert registry.due(10) == []


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
            ids, _ = own.claim_due(7, owner=str(slot))
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


def test_finish_only_with_a_valid_lease(redis_client: redis.Redis, settings: Settings) -> None:
    registry = Registry(redis_client, settings)
    registry.add(URL, None, now=0.0)
    (fid,), lease = registry.claim_due(1, owner="a")
    state = registry.state(fid)
    assert state is not None
    state.last_result = "fetched"
    assert registry.finish(state, lease, due_in=500.0)
    due = registry.next_due()
    assert due is not None
    assert abs(due - (redis_now(redis_client) + 500.0)) < 5
    saved = registry.state(fid)
    assert saved is not None
    assert (saved.last_result, saved.next_poll_at) == ("fetched", due)
    assert registry.leases() == {}
    state.last_result = "error"
    assert not registry.finish(state, lease, due_in=900.0)  # lease spent
    assert registry.next_due() == due
    assert registry.state(fid).last_result == "fetched"  # type: ignore[union-attr]
    registry.remove(URL)
    assert not registry.finish(state, lease, due_in=900.0)  # removed feed
    assert registry.next_due() is None
    assert registry.state(fid) is None


def test_state_is_not_saved_once_another_poller_took_the_feed(
    redis_client: redis.Redis, settings: Settings
) -> None:
    """A poller whose lease ended and was re-claimed neither renews nor saves."""
    registry = Registry(redis_client, settings)
    registry.add(URL, None, now=0.0)
    (fid,), old = registry.claim_due(1, owner="slow")
    expire_lease(registry, fid)
    # A real take-over comes a lease after the first claim; here, let Redis' clock pass at
    # least one millisecond so that the two leases (their end times) differ.
    time.sleep(0.005)
    (_,), new = registry.claim_due(1, owner="fast")
    assert new != old
    assert registry.renew(fid, old) is None
    state = registry.state(fid)
    assert state is not None
    state.last_result = "error"
    assert not registry.finish(state, old, due_in=1.0)
    assert registry.state(fid).last_result == ""  # type: ignore[union-attr]
    renewed = registry.renew(fid, new)
    assert renewed is not None
    assert float(renewed) >= float(new)
    assert registry.finish(state, renewed, due_in=1.0)


def test_seen_set_tells_new_from_changed_and_stays_bounded(
    redis_client: redis.Redis, settings: Settings
) -> None:
    small = settings.model_copy(
        update={"seen_per_feed": 10, "max_items_per_poll": 5, "sitemap_max_entries": 5}
    )
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


def test_renewal_and_seen_lookup_in_one_round_trip(
    redis_client: redis.Redis, settings: Settings
) -> None:
    """``renew_and_classify`` gives what ``renew`` and ``classify`` give, and nothing for a
    lease another poller took over; ``mark_seen`` saves the item memory after the seen-set
    and runs what it is also given on the same pipeline."""
    registry = Registry(redis_client, settings)
    registry.add(URL, None, now=0.0)
    (fid,), old = registry.claim_due(1, owner="slow")
    entries = [entry(0), entry(1)]
    registry.mark_seen(
        fid,
        entries[:1],
        now=1.0,
        memory=b"remembered",
        also=lambda pipe: pipe.hincrby("counted", "feed", 1),
    )
    assert registry.item_memory(fid) == "remembered"
    assert redis_client.hget("counted", "feed") == "1"
    lease, todo = registry.renew_and_classify(fid, old, [entry(0, title="edited"), entry(1)])
    assert lease is not None
    assert float(lease) >= float(old)
    assert [(e.entry_id, kind) for e, kind in todo] == [("id-0", "changed"), ("id-1", "new")]
    assert registry.renew_and_classify(fid, lease, [])[1] == []
    expire_lease(registry, fid)
    time.sleep(0.005)
    (_,), new = registry.claim_due(1, owner="fast")
    assert new != lease
    lost, _todo = registry.renew_and_classify(fid, lease, entries)
    assert lost is None
    assert registry.mark_seen(fid, [], now=2.0) == 1  # the seen-set's size, nothing added
