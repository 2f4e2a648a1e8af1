"""Redis goes away: restarted mid-run (AOF on), or unreachable for a while. The poller and the
workers must ride it out by themselves — no crash loop, bounded back-off, clear log lines —
and every article must still arrive exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from tests.reliability.harness import (
    fault_env,
    publish_site,
    settings_for,
    start_poller,
    start_worker,
    wait_settled,
)
from tests.support.faults import alive, log_events, record_figures, redis_down, tally
from tests.support.origin import Origin
from tests.support.processes import stop, wait_for


def run_with_outage(
    origin: Origin,
    server: EmbeddedRedis,
    client: redis.Redis,
    tmp_path: Path,
    *,
    articles: int,
    downtime: float,
    fault: str,
    kill: bool = False,
    idle: Callable[[], bool] | None = None,
    **extra_env: object,
) -> None:
    """Half of each feed's items are listed at first; the other half appear while Redis is
    down, so the poller has new entries to enqueue across the outage. ``extra_env`` and
    ``idle``: the same with another broker (e.g. RabbitMQ, while this Redis holds the rest)."""
    settings = settings_for(server.url)
    site = publish_site(
        origin, client, settings, articles, per_feed=40, page_delay=0.1, fraction=0.5
    )
    env = fault_env(server.url, **extra_env)
    poller = start_poller(env, tmp_path / "poller.log")
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        # Go down once a part of the articles is through: tasks are queued and in flight.
        wait_for(
            lambda: client.xlen(settings.articles_stream) >= articles // 4,
            timeout=60,
            message="a quarter of the articles",
        )
        before = client.xlen(settings.articles_stream)
        with redis_down(server, kill=kill) as down_at:
            site.show(1.0)
            time.sleep(downtime)
            assert poller.poll() is None, "poller exited while Redis was down"
            assert worker.poll() is None, "worker exited while Redis was down"
        up_at = time.monotonic()
        done = wait_settled(
            client, settings.articles_stream, articles, timeout=120 + downtime, idle=idle
        )
        time.sleep(1.0)  # room for a late duplicate
        assert poller.poll() is None
        assert worker.poll() is None
        assert all(alive(pid) for pid in (poller.pid, worker.pid))
    finally:
        stop(worker)
        stop(poller)
    result = tally(client, settings.articles_stream, site.urls)
    poller_log = log_events(tmp_path / "poller.log")
    worker_log = log_events(tmp_path / "worker.log")
    retries = [e["retry_in"] for e in poller_log if e.get("event") == "redis_unavailable"]
    record_figures(
        fault,
        kill=kill,
        downtime_s=round(up_at - down_at, 1),
        articles_expected=result.expected,
        on_stream=result.on_stream,
        on_stream_before=before,
        duplicates=result.duplicates,
        lost=len(result.missing),
        recovery_s=round(done - up_at, 1),
        poller_redis_unavailable=len(retries),
        poller_max_backoff_s=max(retries, default=0),
        worker_errors=sum(1 for e in worker_log if e.get("level") == "error"),
    )
    assert result.missing == []
    assert result.duplicates == 0
    assert result.exact
    # A short restart may be absorbed by the Redis client's own retries; an outage longer
    # than those is logged, retried with capped back-off, and its end logged too.
    if downtime >= 5:
        assert retries, "the poller logged no redis_unavailable"
    assert max(retries, default=0) <= 30
    if retries:
        assert any(e.get("event") == "redis_reconnected" for e in poller_log)


@pytest.mark.timeout(150)
def test_redis_crashed_and_restarted_mid_run(
    origin: Origin, aof_redis: EmbeddedRedis, aof_client: redis.Redis, tmp_path: Path
) -> None:
    """SIGKILL: the AOF (fsync every second) may lose the last second of writes; it is a
    prefix-consistent log, so what is lost is redone (the task comes back unacknowledged)."""
    run_with_outage(
        origin,
        aof_redis,
        aof_client,
        tmp_path,
        articles=60,
        downtime=1.0,
        fault="redis_killed_restarted",
        kill=True,
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_redis_restarted_gracefully_mid_run(
    origin: Origin, aof_redis: EmbeddedRedis, aof_client: redis.Redis, tmp_path: Path
) -> None:
    run_with_outage(
        origin, aof_redis, aof_client, tmp_path, articles=200, downtime=1.0, fault="redis_restarted"
    )


@pytest.mark.timeout(150)
def test_redis_unreachable_for_10_seconds(
    origin: Origin, aof_redis: EmbeddedRedis, aof_client: redis.Redis, tmp_path: Path
) -> None:
    run_with_outage(
        origin,
        aof_redis,
        aof_client,
        tmp_path,
        articles=60,
        downtime=10.0,
        fault="redis_unreachable_10s",
    )


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_redis_unreachable_for_60_seconds(
    origin: Origin, aof_redis: EmbeddedRedis, aof_client: redis.Redis, tmp_path: Path
) -> None:
    run_with_outage(
        origin,
        aof_redis,
        aof_client,
        tmp_path,
        articles=200,
        downtime=60.0,
        fault="redis_unreachable_60s",
    )
