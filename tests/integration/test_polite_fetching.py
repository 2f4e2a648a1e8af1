"""Polite fetching of article pages on real parts: robots.txt (cached in redis-server), the
per-host slots shared in Redis, the minimum rate of a response; the local origin serves."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.errors import HostBusy, IngestError, PermanentError, Reason, TransientError
from service.fetching import Fetcher
from service.fetching.hostslots import HostSlots
from service.fetching.polite import PoliteFetcher
from service.settings import Settings
from tests.support.origin import Origin
from tests.support.sitegen import article_html

pytestmark = pytest.mark.timeout(60)
ROBOTS = "text/plain"


def tuned(settings: Settings, **changes: object) -> Settings:
    """A new Settings (not model_copy: derived values are cached on the instance)."""
    return Settings(**{**settings.model_dump(), **changes})


@pytest.fixture
def client(redis_server: EmbeddedRedis, redis_client: redis.Redis) -> Iterator[redis.Redis]:
    raw = redis.Redis.from_url(redis_server.url)  # bytes, as the workers use it
    yield raw
    raw.close()


@pytest.fixture
def polite(settings: Settings, client: redis.Redis) -> Iterator[PoliteFetcher]:
    with Fetcher(settings) as fetcher:
        yield PoliteFetcher(fetcher, client, settings)


def page(origin: Origin, path: str, **how: object) -> str:
    origin.add(path, article_html(1, base=origin.url("")), **how)
    return origin.url(path)


def reason_of(polite: PoliteFetcher, url: str) -> tuple[type[IngestError], Reason]:
    with pytest.raises(IngestError) as caught:
        polite.fetch(url)
    return type(caught.value), caught.value.reason


# --- robots.txt ---------------------------------------------------------------------


def test_disallowed_url_is_refused_unfetched_and_robots_read_once(
    origin: Origin, polite: PoliteFetcher, settings: Settings, client: redis.Redis
) -> None:
    origin.add("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type=ROBOTS)
    public, private = page(origin, "/news/a"), page(origin, "/private/b")
    assert polite.fetch(public).url == public
    assert reason_of(polite, private) == (PermanentError, Reason.BLOCKED_BY_ROBOTS)
    assert origin.count("/private/b") == 0
    # Another worker process (its own fetcher, nothing in memory) reads Redis' copy.
    with Fetcher(settings) as fetcher:
        other = PoliteFetcher(fetcher, client, settings)
        assert reason_of(other, private) == (PermanentError, Reason.BLOCKED_BY_ROBOTS)
        other.fetch(public)
    assert origin.count("/robots.txt") == 1
    assert origin.hits[0].headers["User-Agent"] == settings.full_user_agent
    assert 0 < int(client.ttl(f"{settings.key_prefix}:robots:{origin.url('')}")) <= 86400


def test_rfc9309_matching_longest_rule_wildcards_and_our_token(
    origin: Origin, polite: PoliteFetcher, settings: Settings, client: redis.Redis
) -> None:
    origin.add(
        "/robots.txt",
        "User-agent: newswire\nDisallow: /news/\nAllow: /news/open\nDisallow: /*?print=\n\n"
        "User-agent: *\nDisallow: /\n",
        content_type=ROBOTS,
    )
    assert polite.fetch(page(origin, "/news/open-day")).status == 200  # longest match: Allow
    assert reason_of(polite, page(origin, "/news/closed"))[1] == Reason.BLOCKED_BY_ROBOTS
    assert reason_of(polite, page(origin, "/x?print=1"))[1] == Reason.BLOCKED_BY_ROBOTS
    assert polite.fetch(page(origin, "/other")).status == 200  # our group, not "*"
    with Fetcher(settings) as fetcher:  # another token falls in the "*" group
        stranger = PoliteFetcher(fetcher, client, tuned(settings, robots_user_agent="otherbot"))
        assert reason_of(stranger, origin.url("/other"))[1] == Reason.BLOCKED_BY_ROBOTS


@pytest.mark.parametrize("status", [404, 403, 410])
def test_robots_4xx_allows_everything(origin: Origin, polite: PoliteFetcher, status: int) -> None:
    origin.add("/robots.txt", "Disallow: /", status=status, content_type=ROBOTS)
    assert polite.fetch(page(origin, "/a")).status == 200
    assert polite.fetch(page(origin, "/b")).status == 200
    assert origin.count("/robots.txt") == 1


@pytest.mark.parametrize(
    "how",
    [
        {"status": 503},
        {"status": 429},
        {"reset": True},
        {"drip": 0.2, "drip_chunk": 1},  # over NEWSWIRE_ROBOTS_TIMEOUT (1 s here)
        {"body": b"# padding\n" * 3000},  # 30 KB, over NEWSWIRE_ROBOTS_MAX_BYTES (10 KB)
    ],
    ids=["5xx", "429", "reset", "drip", "too-large"],
)
def test_unreachable_robots_disallows_for_now_and_is_remembered(
    origin: Origin, settings: Settings, client: redis.Redis, how: dict[str, object]
) -> None:
    body = how.pop("body", b"User-agent: *\nAllow: /\n")
    origin.add("/robots.txt", body, content_type=ROBOTS, **how)  # type: ignore[arg-type]
    tight = tuned(settings, robots_timeout=1.0, robots_max_bytes=10_000)
    with Fetcher(tight) as fetcher:
        polite = PoliteFetcher(fetcher, client, tight)
        url = page(origin, "/a")
        assert reason_of(polite, url) == (TransientError, Reason.BLOCKED_BY_ROBOTS)
        assert reason_of(polite, url) == (TransientError, Reason.BLOCKED_BY_ROBOTS)
    assert origin.count("/a") == 0
    assert origin.count("/robots.txt") == 1  # remembered (NEWSWIRE_ROBOTS_ERROR_TTL)
    ttl = int(client.ttl(f"{settings.key_prefix}:robots:{origin.url('')}"))
    assert 0 < ttl <= tight.robots_error_ttl


def test_robots_off_for_permitted_sites(
    origin: Origin, settings: Settings, client: redis.Redis
) -> None:
    origin.add("/robots.txt", "User-agent: *\nDisallow: /\n", content_type=ROBOTS)
    off = tuned(settings, robots_txt=False)
    with Fetcher(off) as fetcher:
        assert PoliteFetcher(fetcher, client, off).fetch(page(origin, "/a")).status == 200
    assert origin.count("/robots.txt") == 0


# --- per-host slots -----------------------------------------------------------------


def test_pages_of_one_host_fetched_at_most_n_at_once_across_fetchers(
    origin: Origin, settings: Settings, client: redis.Redis
) -> None:
    """Six fetchers (as six worker processes would), one host, two slots."""
    limited = tuned(settings, article_per_host=2)
    urls = [page(origin, f"/p/{i}", delay=0.2) for i in range(12)]
    done: list[str] = []
    failures: list[BaseException] = []

    def work(mine: list[str]) -> None:
        with Fetcher(limited) as fetcher:
            polite = PoliteFetcher(fetcher, client, limited)
            for url in mine:
                try:
                    done.append(polite.fetch(url).url)
                except BaseException as exc:  # reported below
                    failures.append(exc)

    threads = [threading.Thread(target=work, args=(urls[i::6],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(done) == sorted(urls)
    assert origin.peak_total() == 2  # robots.txt (404) included: it is fetched in a slot
    assert client.zcard(f"{settings.key_prefix}:hostslots:127.0.0.1") == 0  # all given back


def test_a_slot_whose_lease_ended_is_taken_again(settings: Settings, client: redis.Redis) -> None:
    """A worker that died holding a slot frees it when its lease ends (Redis' clock)."""
    slots = HostSlots(client, tuned(settings, article_per_host=1))
    key = slots.key("site.test")
    assert slots.try_take("site.test", "alive", lease=60)
    assert not slots.try_take("site.test", "second", lease=60)
    seconds, micros = client.time()
    client.zadd(key, {"alive": seconds + micros / 1e6 - 1})  # its lease ended a second ago
    assert slots.try_take("site.test", "second", lease=60)
    assert client.zrange(key, 0, -1) == [b"second"]


def test_no_slot_in_time_is_host_busy_and_nothing_is_fetched(
    origin: Origin, settings: Settings, client: redis.Redis
) -> None:
    limited = tuned(settings, article_per_host=1, article_host_wait=0.3)
    HostSlots(client, limited).try_take("127.0.0.1", "held-elsewhere", lease=60)
    with Fetcher(limited) as fetcher:
        polite = PoliteFetcher(fetcher, client, limited)
        assert reason_of(polite, page(origin, "/a")) == (HostBusy, Reason.TIMEOUT)
    assert origin.count("/a") == 0
    assert origin.count("/robots.txt") == 0  # robots.txt waits for a slot too


# --- minimum rate -------------------------------------------------------------------


def _stall_after_head() -> Iterator[bytes]:
    yield b"<html><head><title>x</title></head><body>"
    time.sleep(30)  # the connection is cut long before
    yield b"</body></html>"


@pytest.mark.parametrize(
    "how",
    [
        {"drip": 0.05, "drip_chunk": 1},  # 20 bytes/s
        {"header_drip": 0.05},
        {"stream": _stall_after_head},
        {"chunked": True, "drip": 0.05, "drip_chunk": 2},
    ],
    ids=["body-drip", "header-drip", "stall", "chunked-drip"],
)
def test_response_slower_than_the_minimum_rate_is_too_slow(
    origin: Origin, settings: Settings, client: redis.Redis, how: dict[str, object]
) -> None:
    slow = tuned(settings, min_fetch_rate=500.0, min_fetch_rate_grace=0.5, fetch_timeout=8.0)
    url = page(origin, "/slow", **how)
    with Fetcher(slow) as fetcher, pytest.raises(PermanentError) as caught:
        fetcher.fetch(url, kind="page")
    assert caught.value.reason == Reason.TOO_SLOW
    assert "bytes/s" in caught.value.detail  # the rate check cut it, not the deadline


def test_a_fast_response_after_a_slow_start_is_not_too_slow(
    origin: Origin, settings: Settings
) -> None:
    """The rate counts from the first byte: think time before answering is the deadline's."""
    slow_start = tuned(settings, min_fetch_rate=500.0, min_fetch_rate_grace=0.5)
    with Fetcher(slow_start) as fetcher:
        assert fetcher.fetch(page(origin, "/think", delay=1.0), kind="page").status == 200


def test_feeds_have_no_minimum_rate(origin: Origin, settings: Settings) -> None:
    slow = tuned(settings, min_fetch_rate=500.0, min_fetch_rate_grace=0.2, fetch_timeout=1.5)
    origin.add("/f.xml", b"<rss>" + b" " * 2000, content_type="application/rss+xml", drip=0.05)
    with Fetcher(slow) as fetcher, pytest.raises(TransientError) as caught:
        fetcher.fetch(origin.url("/f.xml"), kind="feed")
    assert caught.value.reason == Reason.TIMEOUT


def test_a_page_in_bursts_above_the_rate_is_read_whole(origin: Origin, settings: Settings) -> None:
    """Pauses between chunks are fine while the rate since the first byte is met."""
    lenient = tuned(settings, min_fetch_rate=1000.0, min_fetch_rate_grace=0.2)
    body = article_html(1, base=origin.url("")).encode()
    origin.add("/bursts", body * 4, chunked=True, drip=0.1, drip_chunk=1000)  # ~10 KB/s
    with Fetcher(lenient) as fetcher:
        assert fetcher.fetch(origin.url("/bursts"), kind="page").content == body * 4
