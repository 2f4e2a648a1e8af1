"""RabbitMQ as the broker (quorum queues, publisher confirms), Redis for the rest: workers
SIGKILLed during a run, RabbitMQ restarted mid-run, a poison task. Every article exactly once,
the poison task dead-lettered as ``worker_lost`` after NEWSWIRE_MAX_DELIVERIES.

One RabbitMQ node serves the session (tests/conftest.py); each test has a vhost of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.settings import Settings
from tests.reliability.harness import (
    fault_env,
    publish_site,
    settings_for,
    start_poller,
    start_worker,
    wait_settled,
)
from tests.reliability.test_redis_faults import run_with_outage
from tests.reliability.test_worker_faults import (
    POISON,
    poison_figures,
    poison_handler,
    run_poison,
    run_with_worker_kills,
)
from tests.support.engines import RabbitMQ
from tests.support.faults import alive, fault_seed, record_figures, tally
from tests.support.origin import Origin
from tests.support.processes import stop, wait_for


def idle_check(rabbitmq: RabbitMQ, vhost: str) -> Callable[[], bool]:
    """No message in any queue of the vhost: ready, unacknowledged or a delayed retry."""
    return lambda: rabbitmq.messages(vhost) == 0


def kills_on_rabbitmq(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    rabbitmq: RabbitMQ,
    tmp_path: Path,
    *,
    articles: int,
    kills: int,
) -> None:
    vhost = rabbitmq.add_vhost()
    run_with_worker_kills(
        origin,
        redis_client,
        redis_server.url,
        settings,
        tmp_path,
        articles=articles,
        kills=kills,
        seed=fault_seed(),
        idle=idle_check(rabbitmq, vhost),
        fault="rabbitmq_worker_killed",
        broker_url=rabbitmq.url(vhost),
        # RabbitMQ 3.x hands a returned message out first: the task a killed worker held is the
        # first the next worker runs, so consecutive kills can hit one healthy task each
        # time. Three kills of one task are what marks a poison task (max_deliveries 3): the
        # 400-article run dead-lettered one healthy article that way. Room for every kill:
        max_deliveries=kills + 1,
    )


@pytest.mark.timeout(240)
def test_rabbitmq_worker_killed_twice_during_40_articles(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    rabbitmq: RabbitMQ,
    tmp_path: Path,
) -> None:
    kills_on_rabbitmq(
        origin, redis_client, redis_server, settings, rabbitmq, tmp_path, articles=40, kills=2
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_rabbitmq_worker_killed_six_times_during_400_articles(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    rabbitmq: RabbitMQ,
    tmp_path: Path,
) -> None:
    kills_on_rabbitmq(
        origin, redis_client, redis_server, settings, rabbitmq, tmp_path, articles=400, kills=6
    )


def run_with_rabbitmq_restart(
    origin: Origin,
    redis_server: EmbeddedRedis,
    client: redis.Redis,
    rabbitmq: RabbitMQ,
    tmp_path: Path,
    *,
    articles: int,
    kill: bool,
) -> None:
    """Half of each feed's items are listed at first, the rest appear while RabbitMQ is
    down: the poller has entries to enqueue across the restart, workers hold tasks."""
    vhost = rabbitmq.add_vhost()
    settings = settings_for(redis_server.url)
    site = publish_site(
        origin, client, settings, articles, per_feed=40, page_delay=0.1, fraction=0.5
    )
    env = fault_env(redis_server.url, broker_url=rabbitmq.url(vhost))
    poller = start_poller(env, tmp_path / "poller.log")
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_for(
            lambda: client.xlen(settings.articles_stream) >= articles // 4,
            timeout=120,
            message="a quarter of the articles",
        )
        before = client.xlen(settings.articles_stream)
        down_at = time.monotonic()
        rabbitmq.stop(kill=kill)
        site.show(1.0)
        rabbitmq.start()
        up_at = time.monotonic()
        done = wait_settled(
            client,
            settings.articles_stream,
            articles,
            timeout=180,
            idle=idle_check(rabbitmq, vhost),
        )
        time.sleep(1.0)  # room for a late duplicate
        assert poller.poll() is None, "the poller exited"
        assert worker.poll() is None, "the worker exited"
        assert all(alive(pid) for pid in (poller.pid, worker.pid))
    finally:
        stop(worker)
        stop(poller)
    result = tally(client, settings.articles_stream, site.urls)
    record_figures(
        "rabbitmq_killed_restarted" if kill else "rabbitmq_restarted",
        downtime_s=round(up_at - down_at, 1),
        articles_expected=result.expected,
        on_stream=result.on_stream,
        on_stream_before=before,
        duplicates=result.duplicates,
        lost=len(result.missing),
        recovery_s=round(done - up_at, 1),
    )
    assert result.missing == []
    assert result.duplicates == 0
    assert result.exact


@pytest.mark.timeout(400)
def test_rabbitmq_restarted_mid_run(
    origin: Origin,
    redis_server: EmbeddedRedis,
    redis_client: redis.Redis,
    rabbitmq: RabbitMQ,
    tmp_path: Path,
) -> None:
    run_with_rabbitmq_restart(
        origin, redis_server, redis_client, rabbitmq, tmp_path, articles=40, kill=False
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_rabbitmq_killed_and_restarted_mid_run(
    origin: Origin,
    redis_server: EmbeddedRedis,
    redis_client: redis.Redis,
    rabbitmq: RabbitMQ,
    tmp_path: Path,
) -> None:
    """SIGKILL: quorum queues keep what they confirmed (fsynced Raft log); a publish whose
    confirm never came is retried by the poller, a delivered task redelivered."""
    run_with_rabbitmq_restart(
        origin, redis_server, redis_client, rabbitmq, tmp_path, articles=200, kill=True
    )


@pytest.mark.timeout(300)
def test_rabbitmq_poison_task_is_dead_lettered_as_worker_lost(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    rabbitmq: RabbitMQ,
    tmp_path: Path,
) -> None:
    """Each fetch of /news/999 SIGKILLs its pool process: RabbitMQ returns the message each
    time (its delivery count rises), the task's own count dead-letters it after 3 deliveries,
    before the queue's x-delivery-limit; the healthy articles all arrive, once."""
    vhost = rabbitmq.add_vhost()
    run = run_poison(
        origin,
        redis_client,
        redis_server.url,
        settings,
        tmp_path / "worker.log",
        healthy=20,
        handler=lambda w, v: poison_handler(origin, w, v),
        broker_url=rabbitmq.url(vhost),
        idle=idle_check(rabbitmq, vhost),
    )
    poison_figures("rabbitmq_poison_worker_killed", run)
    poison_url = origin.url(f"/news/{POISON}")
    assert [(d["reason"], d["url"]) for d in run.letters] == [("worker_lost", poison_url)]
    # RabbitMQ counts deliveries, not runs: a message returned by a killed pool process can
    # be counted once more without reaching a process that fetches it (seen in 1 run of 4).
    assert 2 <= run.fetches <= 3
    assert run.healthy.exact


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_redis_unreachable_for_10_seconds_with_the_rabbitmq_broker(
    origin: Origin,
    aof_redis: EmbeddedRedis,
    aof_client: redis.Redis,
    rabbitmq: RabbitMQ,
    tmp_path: Path,
) -> None:
    """Redis (registry, seen-sets, streams) away while RabbitMQ holds the tasks: a worker
    that cannot reach Redis returns its task to RabbitMQ (each return counts against the
    queue's delivery limit; past it the task moves to the overflow queue, still consumed)."""
    vhost = rabbitmq.add_vhost()
    run_with_outage(
        origin,
        aof_redis,
        aof_client,
        tmp_path,
        articles=60,
        downtime=10.0,
        fault="redis_unreachable_10s_rabbitmq",
        idle=idle_check(rabbitmq, vhost),
        broker_url=rabbitmq.url(vhost),
    )
