"""What the fault tests share: a generated news site of N articles on the local origin, the
environment of the newswire processes under test, and "settled" checks on the broker."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis

from service.queue import broker_queue_key, broker_unacked_key
from service.registry import Registry
from service.settings import Settings
from tests.support.origin import Origin
from tests.support.processes import newswire_env, spawn, wait_for
from tests.support.sitegen import article_html, rss_feed

# Limits of every fault test: a dead worker's tasks come back within ~8 s (visibility
# timeout 7 s + restore sweep every 1 s), above the hard time limit of one task (5 s).
# Retries wait at most 0.8 x 7 = 5.6 s (a longer countdown would be redelivered early).
FAULT_ENV: dict[str, object] = {
    "fetch_timeout": 2,
    "connect_timeout": 1,
    "task_soft_time_limit": 4,
    "task_time_limit": 5,
    "visibility_timeout": 7,
    "task_max_retries": 2,
    "retry_backoff": 0.2,
    "poll_interval_min": 1,
    "poll_interval_default": 2,
    "poll_interval_max": 2,
    "poll_lease": 5,
    "max_items_per_poll": 500,
}


def fault_env(redis_url: str, **overrides: object) -> dict[str, str]:
    return newswire_env(redis_url, **{**FAULT_ENV, **overrides})


def settings_for(redis_url: str) -> Settings:
    return Settings(redis_url=redis_url)


@dataclass
class Site:
    """``n`` article pages split over feeds, registered in the feed registry."""

    origin: Origin
    urls: set[str]
    feeds: dict[str, list[int]]  # feed path -> the items it lists once complete
    feed_delay: float = 0.0  # seconds each feed takes to answer

    def show(self, fraction: float) -> int:
        """Let every feed list only its first ``fraction`` of items; returns how many."""
        base, shown = self.origin.url(""), 0
        for path, items in self.feeds.items():
            listed = items[: round(len(items) * fraction)]
            self.origin.add(
                path,
                rss_feed(listed, base=base),
                content_type="application/rss+xml",
                delay=self.feed_delay,
            )
            shown += len(listed)
        return shown


def publish_site(
    origin: Origin,
    client: redis.Redis,
    settings: Settings,
    n: int,
    *,
    per_feed: int = 50,
    page_delay: float = 0.0,
    feed_delay: float = 0.0,
    prefix: str = "",
    fraction: float = 1.0,
) -> Site:
    """Pages ``/news/0`` .. ``/news/{n-1}`` and feeds of ``per_feed`` items listing them
    (the first ``fraction`` of each feed's items for now), registered as feeds."""
    base = origin.url("")
    site = Site(origin, set(), {}, feed_delay)
    for start in range(0, n, per_feed):
        items = list(range(start, min(n, start + per_feed)))
        for i in items:
            origin.add(f"/news/{i}", article_html(i, base=base), delay=page_delay)
            site.urls.add(origin.url(f"/news/{i}"))
        site.feeds[f"/{prefix}feed{start // per_feed}.xml"] = items
    site.show(fraction)
    registry = Registry(client, settings)
    for path in site.feeds:
        registry.add(origin.url(path), None, now=0)
    return site


def broker_idle(client: redis.Redis, settings: Settings | None = None) -> bool:
    """No task queued, none held unacknowledged by a worker (incl. retries waiting on ETA),
    on the Redis broker of ``settings`` (default: the default key prefix)."""
    settings = settings or Settings()
    queued = broker_queue_key(settings) or ""
    return int(client.llen(queued)) == 0 and int(client.hlen(broker_unacked_key(settings))) == 0


def wait_settled(
    client: redis.Redis,
    stream: str,
    expected: int,
    *,
    timeout: float,
    idle: Callable[[], bool] | None = None,
) -> float:
    """Wait until ``expected`` entries are on ``stream`` and the broker holds no task
    (``idle``: default, the Redis broker on ``client``); returns when (monotonic)."""
    broker_is_idle = idle or (lambda: broker_idle(client))
    wait_for(
        lambda: _len(client, stream) >= expected and broker_is_idle(),
        timeout=timeout,
        interval=0.2,
        message=f"{expected} entries on {stream}, broker idle",
    )
    return time.monotonic()


def _len(client: redis.Redis, stream: str) -> int:
    try:
        return int(client.xlen(stream))
    except redis.RedisError:
        return -1


def start_worker(
    env: dict[str, str], log: Path, *, concurrency: int = 2, extra: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    return spawn(["worker", "--pool", "prefork", "-c", str(concurrency), *extra], env, log)


def start_poller(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return spawn(["poller"], env, log)
