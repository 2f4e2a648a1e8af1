"""Redis memory per article, per feed, per seen entry, per queued task and per dead letter.

    python -m bench.redis_footprint [--articles 2000] [--words 700] [--feeds 2000]

Starts a private Redis server (the embedded one, no persistence), writes each kind of data
through newswire's own code (``Streams.publish``, ``Registry.add`` + a polled feed's state,
``Registry.mark_seen``, ``Enqueuer.enqueue``, ``Streams.dead_letter``) and divides the growth
of ``INFO memory`` ``used_memory`` by the count. Prints a Markdown table for
docs/operations.md ("Sizing").
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import redis

from service.embedded_redis import EmbeddedRedis
from service.hashing import short_hash
from service.models import Article, DeadLetter, ExtractorInfo, FeedEntry, FeedRef, SiteRef
from service.queue import Enqueuer
from service.registry import Registry, feed_id
from service.settings import Settings
from service.streams import Streams

WORDS = [
    "the",
    "council",
    "said",
    "on",
    "tuesday",
    "that",
    "its",
    "budget",
    "for",
    "river",
    "harbour",
    "and",
    "new",
    "railway",
    "bridge",
    "would",
    "be",
    "discussed",
    "again",
    "after",
    "residents",
    "of",
    "village",
    "asked",
    "questions",
    "about",
    "storm",
    "damage",
    "to",
    "market",
    "school",
    "hospital",
    "library",
    "a",
    "in",
    "was",
    "were",
    "by",
    "with",
    "from",
]


def used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def measure(client: redis.Redis, count: int, write: Callable[[int], None]) -> float:
    client.flushall()
    time.sleep(0.05)
    before = used(client)
    for i in range(count):
        write(i)
    return (used(client) - before) / count


def article(i: int, words: int, rng: random.Random) -> Article:
    url = f"https://www.news-site.example/world/2026/11/25/story-about-the-harbour-{i}"
    paragraphs = [
        " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + "."
        for _ in range(max(1, words // 60))
    ]
    text = "\n\n".join(paragraphs)
    return Article(
        id=short_hash(url),
        url=url,
        canonical_url=url,
        feed=FeedRef(url="https://www.news-site.example/rss/world.xml", title="World news"),
        site=SiteRef(name="News Site", domain="news-site.example"),
        title=f"Storm closes the harbour as the council meets again, story {i}",
        authors=["Ann Reporter", "Bo Writer"],
        published_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        language="en",
        summary=paragraphs[0][:240],
        text=text,
        word_count=len(text.split()),
        image=f"https://img.news-site.example/2026/11/{i}/lead.jpg",
        tags=["weather", "harbour", "council"],
        content_hash=short_hash(text),
        fetched_at=datetime.now(UTC),
        extractor=ExtractorInfo(name="newswire", version="0.1.0"),
    )


def entry(feed_url: str, i: int) -> FeedEntry:
    url = f"https://www.news-site.example/world/2026/11/25/story-about-the-harbour-{i}"
    return FeedEntry(
        feed_url=feed_url,
        entry_id=url,
        url=url,
        title=f"Story {i}",
        summary="The harbour stays closed until Friday, the council said.",
    )


def run(
    *, articles: int = 2000, words: int = 700, feeds: int = 2000, seen: int = 20_000
) -> list[tuple[str, float, str]]:
    """(what, bytes each, note) rows; ``seen``: seen entries written per seen-set size."""
    rng = random.Random(7)
    articles_n = articles
    rows = []
    with EmbeddedRedis(Path(tempfile.mkdtemp(prefix="nw-footprint-")), appendonly=False) as srv:
        settings = Settings(redis_url=srv.url)
        client = redis.Redis.from_url(srv.url)
        streams, registry = Streams(client, settings), Registry(client, settings)
        made = [article(i, words, rng) for i in range(articles_n)]
        size = sum(len(a.model_dump_json()) for a in made) / len(made)
        per = measure(client, articles_n, lambda i: streams.publish(made[i]))
        rows.append(
            (
                "article (stream entry + dedup record)",
                per,
                f"{words}-word text, {size / 1024:.1f} KiB of JSON",
            )
        )
        with_stream = used(client)
        client.xtrim(settings.articles_stream, maxlen=0)
        dedup = per - (with_stream - used(client)) / articles_n
        rows.append(
            ("dedup record alone", dedup, "kept NEWSWIRE_DEDUP_TTL_DAYS after the entry is trimmed")
        )

        def add_feed(i: int) -> None:
            url = f"https://www.news-site.example/rss/section-{i}.xml"
            registry.add(url, f"Section {i}", now=0)
            state = registry.state(feed_id(url))
            assert state is not None
            state.etag, state.last_modified = '"5f3a9c1e-2b7d"', "Tue, 25 Nov 2026 09:30:00 GMT"
            state.body_hash, state.last_result = short_hash(url), "fetched"
            state.last_poll_at, state.next_poll_at, state.interval = 1.7e9, 1.7e9 + 300, 300.0
            registry.save_state(state)

        rows.append(
            (
                "feed (registry, schedule, state)",
                measure(client, feeds, add_feed),
                "after its first poll",
            )
        )
        for per_feed in (50, 500):
            seen_feeds = max(1, seen // per_feed)

            def mark(i: int, per_feed: int = per_feed) -> None:
                url = f"https://www.news-site.example/rss/section-{i}.xml"
                registry.mark_seen(
                    feed_id(url), [entry(url, k) for k in range(per_feed)], now=1.7e9
                )

            rows.append(
                (
                    f"seen entry ({per_feed} per feed)",
                    measure(client, seen_feeds, mark) / per_feed,
                    "id + fingerprint",
                )
            )
        enqueuer = Enqueuer(settings)
        entries = [
            entry("https://www.news-site.example/rss/world.xml", i) for i in range(articles_n)
        ]
        rows.append(
            (
                "queued article task",
                measure(
                    client,
                    articles_n,
                    lambda i: enqueuer.enqueue(
                        entries[i].url or "",
                        entries[i].feed_url,
                        entries[i].model_dump(mode="json"),
                    ),
                ),
                "Celery message",
            )
        )
        enqueuer.close()
        rows.append(
            (
                "dead letter",
                measure(
                    client,
                    articles_n,
                    lambda i: streams.dead_letter(
                        DeadLetter(
                            type="article.failed",
                            url=f"https://www.news-site.example/gone/{i}",
                            feed_url="https://www.news-site.example/rss/world.xml",
                            reason="http_status",
                            detail="HTTP 404 Not Found",
                            attempts=1,
                            failed_at=datetime.now(UTC),
                        )
                    ),
                ),
                "stream entry + 24 h idempotency mark",
            )
        )
        rows.append(
            (
                "empty Redis",
                float(used(client.__class__.from_url(srv.url))),
                "baseline used_memory after FLUSHALL",
            )
        )
        client.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--words", type=int, default=700)
    parser.add_argument("--feeds", type=int, default=2000)
    args = parser.parse_args()
    print("| what | bytes each | note |\n| --- | ---: | --- |")
    for name, per, note in run(articles=args.articles, words=args.words, feeds=args.feeds):
        print(f"| {name} | {per:,.0f} | {note} |")


if __name__ == "__main__":
    main()
