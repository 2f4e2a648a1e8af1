"""Idempotent publishing and dead letters against a real Redis."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import redis

from newswire_consumer.groups import ensure_group, read_group, trimmed_before_read
from service.cli.status import collect_status
from service.models import Article, DeadLetter, ExtractorInfo, SiteRef
from service.settings import Settings
from service.streams import Streams

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make_article(text: str = "Body.", content_hash: str = "h1") -> Article:
    return Article(
        id="a" * 32,
        url="https://example.com/a",
        canonical_url="https://example.com/a",
        site=SiteRef(domain="example.com"),
        title="T",
        text=text,
        word_count=1,
        content_hash=content_hash,
        fetched_at=NOW,
        extractor=ExtractorInfo(name="x", version="1"),
    )


def test_same_content_is_published_once(redis_client: redis.Redis, settings: Settings) -> None:
    streams = Streams(redis_client, settings)
    first = streams.publish(make_article())
    again = streams.publish(make_article())
    assert first.outcome == "article.created"
    assert again.outcome == "duplicate"
    assert redis_client.xlen(settings.articles_stream) == 1


def test_changed_content_is_published_as_updated(
    redis_client: redis.Redis, settings: Settings
) -> None:
    streams = Streams(redis_client, settings)
    streams.publish(make_article())
    updated = streams.publish(make_article("New body.", "h2"))
    assert updated.outcome == "article.updated"
    entries = redis_client.xrange(settings.articles_stream)
    assert [e[1]["type"] for e in entries] == ["article.created", "article.updated"]
    fields = entries[1][1]
    assert fields["id"] == "a" * 32
    assert fields["schema_version"] == "1"
    assert '"text":"New body."' in fields["data"]
    assert '"fetched_at":"2026-11-25T12:00:00Z"' in fields["data"]


def test_dead_letters_are_written_once_and_counted(
    redis_client: redis.Redis, settings: Settings
) -> None:
    streams = Streams(redis_client, settings)
    letter = DeadLetter(
        type="article.failed",
        url="https://x.test/",
        reason="timeout",
        detail="slow",
        attempts=3,
        failed_at=NOW,
    )
    assert streams.dead_letter(letter)
    assert streams.dead_letter(letter) is None
    entries = redis_client.xrange(settings.dead_stream)
    assert len(entries) == 1
    assert entries[0][1] == {
        "type": "article.failed",
        "url": "https://x.test/",
        "feed_url": "",
        "reason": "timeout",
        "detail": "slow",
        "attempts": "3",
        "failed_at": "2026-11-25T12:00:00Z",
    }
    assert redis_client.hgetall(f"{settings.key_prefix}:dead:counts") == {"timeout": "1"}


def test_read_group_reclaims_entries_of_a_dead_consumer(
    redis_client: redis.Redis, settings: Settings
) -> None:
    stream = settings.articles_stream
    Streams(redis_client, settings).publish(make_article())
    ensure_group(redis_client, stream, "g")
    ensure_group(redis_client, stream, "g")  # idempotent
    taken = read_group(redis_client, stream, "g", "dead-one", block_ms=10, reclaim_idle_ms=0)
    assert len(taken) == 1  # read, never acknowledged: the consumer "died"
    time.sleep(0.01)  # idle longer than the reclaim threshold below
    again = read_group(redis_client, stream, "g", "survivor", block_ms=10, reclaim_idle_ms=1)
    assert [i for i, _ in again] == [taken[0][0]]
    redis_client.xack(stream, "g", again[0][0])
    assert read_group(redis_client, stream, "g", "survivor", block_ms=10, reclaim_idle_ms=1) == []


def test_entries_trimmed_before_a_group_read_them_are_reported(
    redis_client: redis.Redis, settings: Settings
) -> None:
    """Trimming past a slow group is visible in `status` (and the metric built on it)."""
    stream = settings.articles_stream
    for i in range(5):
        redis_client.xadd(stream, {"n": str(i)})
    ensure_group(redis_client, stream, "slow")
    ensure_group(redis_client, stream, "fast")
    redis_client.xreadgroup("slow", "c", {stream: ">"}, count=2)
    for i in range(300):  # exact trimming, so the figure is exact too
        redis_client.xadd(stream, {"n": str(i)}, maxlen=100, approximate=False)
        redis_client.xreadgroup("fast", "c", {stream: ">"}, count=1)
    groups = {
        g["name"]: g for g in collect_status(redis_client, settings)["streams"][stream]["groups"]
    }
    # 205 entries removed; the slow group had read 2 of them
    assert groups["slow"]["trimmed_before_read"] == 203
    assert groups["slow"]["lag"] > redis_client.xlen(stream)
    assert groups["fast"]["trimmed_before_read"] == 0
    redis_client.xreadgroup("slow", "c", {stream: ">"}, count=1)  # jumps to the oldest left
    slow = next(g for g in redis_client.xinfo_groups(stream) if g["name"] == "slow")
    assert trimmed_before_read(redis_client.xinfo_stream(stream), slow) == 0


def test_trimmed_before_read_without_a_stream_or_read_count() -> None:
    group = {"last-delivered-id": "5-0", "entries-read": None}
    assert trimmed_before_read({"length": 0, "entries-added": 0}, group) == 0
    fresh = {"last-delivered-id": "0-0", "entries-read": None}
    assert (
        trimmed_before_read(
            {"length": 3, "entries-added": 3, "recorded-first-entry-id": "1-0"}, fresh
        )
        == 0
    )
    assert (
        trimmed_before_read(
            {"length": 3, "entries-added": 8, "recorded-first-entry-id": "6-0"}, fresh
        )
        == 5
    )
    behind = {"length": 10, "entries-added": 50, "recorded-first-entry-id": "9-0"}
    assert trimmed_before_read(behind, group) is None
    assert trimmed_before_read(behind, {**group, "entries-read": 30}) == 10
    assert trimmed_before_read(behind, {**group, "last-delivered-id": "9-0"}) == 0
