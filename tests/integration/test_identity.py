"""Story identity against a real Redis: the shared index, the first claim, and what the
publish step makes of it (duplicate_of, skip mode, reverts, redeliveries, visible fields)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis

from service.cli.status import collect_status
from service.embedded_redis import EmbeddedRedis
from service.hashing import short_hash
from service.identity.index import StoryIndex
from service.models import Article, ExtractorInfo, FeedRef, SiteRef
from service.settings import Settings
from service.streams import Streams
from tests.conftest import corpus_dir

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def raw(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A client without response decoding: the index keeps binary values."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield client
    client.close()


def stories(n: int) -> list[list[str]]:
    out = []
    for path in sorted(corpus_dir("pages").glob("*.json")):
        paras = [p for p in json.loads(path.read_text())["paragraphs"] if p.strip()]
        if sum(len(p.split()) for p in paras) >= 250:
            out.append(paras)
    return out[:n]


def aid(n: int) -> str:
    """An article id (ids are hashes: their first 8 bytes are the index's reference)."""
    return short_hash(f"https://site{n}.example/story")


def article(n: int, text: str, **changes: object) -> Article:
    base = Article(
        id=aid(n),
        url=f"https://site{n}.example/story",
        canonical_url=f"https://site{n}.example/story",
        feed=FeedRef(url=f"https://site{n}.example/rss"),
        site=SiteRef(domain=f"site{n}.example"),
        title="Harbour closed",
        text=text,
        word_count=len(text.split()),
        content_hash=short_hash(text),
        fetched_at=NOW,
        extractor=ExtractorInfo(name="x", version="1"),
    )
    return base.model_copy(update=changes)


def test_copies_point_at_the_original_and_chains_collapse(
    raw: redis.Redis, settings: Settings
) -> None:
    index = StoryIndex(raw, settings)
    paras = stories(1)[0]
    original = "\n\n".join(paras)
    assert index.identify(aid(1), original).duplicate_of is None
    copy = "BERLIN (dpa) — " + "\n\n".join(paras[:-1])
    assert index.identify(aid(2), copy).duplicate_of == aid(1)
    copy_of_copy = copy + "\n\nThis story was first published by dpa."
    found = index.identify(aid(3), copy_of_copy)
    assert found.duplicate_of == aid(1)
    assert found.outcome == "duplicate"


def test_an_update_at_its_own_url_keeps_its_verdict(raw: redis.Redis, settings: Settings) -> None:
    index = StoryIndex(raw, settings)
    paras = stories(1)[0]
    assert index.identify(aid(1), "\n\n".join(paras)).outcome == "original"
    updated = index.identify(aid(1), "\n\n".join([*paras, "Update: the port reopened."]))
    assert updated.duplicate_of is None  # never a duplicate of itself
    assert updated.outcome == "known_original"
    index.identify(aid(2), "\n\n".join(paras))
    again = index.identify(aid(2), "\n\n".join(paras))  # a redelivered task
    assert (again.duplicate_of, again.outcome) == (aid(1), "known_duplicate")


def test_different_stories_and_short_texts_are_not_linked(
    raw: redis.Redis, settings: Settings
) -> None:
    index = StoryIndex(raw, settings)
    texts = ["\n\n".join(paras) for paras in stories(8)]
    assert [index.identify(aid(i), t).duplicate_of for i, t in enumerate(texts)] == [None] * len(
        texts
    )
    keys = raw.dbsize()
    assert index.identify(aid(99), "A short brief. " * 3).outcome == "short"
    assert raw.dbsize() == keys  # a short text claims nothing


def test_index_keys_expire_after_the_window(raw: redis.Redis, settings: Settings) -> None:
    index = StoryIndex(raw, settings)
    index.identify(aid(1), "\n\n".join(stories(1)[0]))
    window = settings.duplicates_window_days * 86400
    ttls = [raw.ttl(key) for key in raw.scan_iter(match=f"{settings.key_prefix}:story:*")]
    assert ttls
    assert all(window < ttl <= window + 86400 for ttl in ttls)


def test_concurrent_copies_make_exactly_one_original(
    redis_server: EmbeddedRedis, raw: redis.Redis, settings: Settings
) -> None:
    paras = stories(1)[0]
    copies = ["\n\n".join(paras), "PARIS (AFP) — " + "\n\n".join(paras), " ".join(paras)]
    results: dict[int, str | None] = {}
    barrier = threading.Barrier(len(copies))

    def work(n: int) -> None:
        client = redis.Redis.from_url(redis_server.url)
        index = StoryIndex(client, settings)
        barrier.wait()
        results[n] = index.identify(aid(n + 1), copies[n]).duplicate_of
        client.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(copies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    originals = [n for n, dup in results.items() if dup is None]
    assert len(originals) == 1
    assert {dup for dup in results.values() if dup} == {aid(originals[0] + 1)}


def types(client: redis.Redis, settings: Settings) -> list[str]:
    return [fields[b"type"].decode() for _, fields in client.xrange(settings.articles_stream)]


def test_a_revert_is_news_a_redelivered_task_is_not(raw: redis.Redis, settings: Settings) -> None:
    streams = Streams(raw, settings)
    a, b = article(1, "Text A " * 20), article(1, "Text B " * 20)
    assert streams.publish(a, task_id="t1").outcome == "article.created"
    assert streams.publish(a, task_id="t1").outcome == "duplicate"  # redelivered at once
    assert streams.publish(b, task_id="t2").outcome == "article.updated"
    assert streams.publish(a, task_id="t1").outcome == "duplicate"  # t1 redelivered late
    assert streams.publish(a, task_id="t3").outcome == "article.updated"  # a real revert
    assert types(raw, settings) == ["article.created", "article.updated", "article.updated"]


def test_consumer_visible_fields_decide_updates(raw: redis.Redis, settings: Settings) -> None:
    streams = Streams(raw, settings)
    first = article(1, "Same text " * 20)
    streams.publish(first, task_id="t1")
    not_news = first.model_copy(
        update={
            "fetched_at": datetime(2026, 12, 2, tzinfo=UTC),
            "url": "https://amp.site1.example/story",
            "feed": FeedRef(url="https://other.example/rss"),
        }
    )
    assert streams.publish(not_news, task_id="t2").outcome == "duplicate"
    for n, change in enumerate(
        [
            {"title": "Harbour closed until Friday"},
            {"authors": ["Ann Reporter"]},
            {"published_at": datetime(2026, 12, 1, 9, tzinfo=UTC)},
            {"duplicate_of": "f" * 32},
        ]
    ):
        changed = first.model_copy(update=change)
        assert streams.publish(changed, task_id=f"u{n}").outcome == "article.updated", change
        first = changed


def test_skip_mode_counts_copies_instead_of_publishing_them(
    raw: redis.Redis, settings: Settings
) -> None:
    skip = settings.model_copy(update={"duplicates": "skip"})
    streams = Streams(raw, skip)
    assert streams.publish(article(1, "Story " * 30), task_id="t1").outcome == "article.created"
    copy = article(2, "Story " * 30, duplicate_of=aid(1))
    assert streams.publish(copy, task_id="t2").outcome == "skipped"
    assert streams.publish(copy, task_id="t2").outcome == "duplicate"  # counted once
    assert types(raw, skip) == ["article.created"]
    status = collect_status(raw, skip)["stories"]
    assert status == {"original": 1, "duplicate": 1, "skipped": 1, "duplicate_rate": 0.5}


def test_a_cross_site_canonical_link_is_a_hint_checked_against_the_text(
    raw: redis.Redis, settings: Settings
) -> None:
    (original, *_), other = stories(1), stories(6)[1:]
    filler = [p for paras in other for p in paras]
    text = "\n\n".join(original)
    kept = original[: max(1, len(original) * 7 // 10)]
    words = len(" ".join(kept).split())
    extra: list[str] = []
    while len(" ".join(extra).split()) < words * 1.5:
        extra.append(filler[len(extra)])
    partly = "\n\n".join([*kept, *extra])  # most of the story, and more of its own
    index = StoryIndex(raw, settings)
    results = []
    for hint in (None, aid(1)):
        raw.flushall()
        index.identify(aid(1), text)
        results.append(index.identify(aid(2), partly, hint_id=hint).duplicate_of)
    assert results == [None, aid(1)]  # linked only with the page's canonical claim
    raw.flushall()
    index.identify(aid(1), text)
    unrelated = "\n\n".join(filler[: len(original)])
    assert index.identify(aid(3), unrelated, hint_id=aid(1)).duplicate_of is None
