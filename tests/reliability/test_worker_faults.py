"""Workers die: SIGKILL of the whole worker process group at random points of a run, and a
poison task that kills its pool process every time it runs."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.settings import Settings
from tests.reliability.harness import (
    fault_env,
    publish_site,
    start_poller,
    start_worker,
    wait_settled,
)
from tests.support.faults import (
    Tally,
    children_of,
    count_events,
    dead_letters,
    fault_seed,
    kill_group,
    kill_pid,
    record_figures,
    socket_owner,
    tally,
)
from tests.support.origin import Origin, Response
from tests.support.processes import running, stop, wait_for
from tests.support.sitegen import rss_feed


def run_with_worker_kills(
    origin: Origin,
    client: redis.Redis,
    redis_url: str,
    settings: Settings,
    tmp_path: Path,
    *,
    articles: int,
    kills: int,
    seed: int,
    idle: Callable[[], bool] | None = None,
    fault: str = "worker_killed",
    **env: object,
) -> None:
    """``env`` (settings, e.g. another ``broker_url``) and ``idle`` (the broker holds no
    task) let the same run go through another broker."""
    rng = random.Random(seed)
    site = publish_site(origin, client, settings, articles, per_feed=50, page_delay=0.15)
    environ = fault_env(redis_url, **env)
    poller = start_poller(environ, tmp_path / "poller.log")
    started = time.monotonic()
    killed_at: list[float] = []
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for k in range(kills):
            worker = start_worker(environ, tmp_path / f"worker{k}.log")
            workers.append(worker)
            # Kill once this worker is busy, at a random moment of its work.
            hits = sum(origin.count(f"/news/{i}") for i in range(articles))
            wait_for(
                lambda h=hits: sum(origin.count(f"/news/{i}") for i in range(articles)) > h,
                timeout=60,
                message=f"worker {k} fetching pages ({hits} fetches so far, "
                f"{client.xlen(settings.articles_stream)} articles on the stream)",
            )
            time.sleep(rng.uniform(0.2, 2.5))
            kill_group(worker)
            killed_at.append(time.monotonic())
        workers.append(start_worker(environ, tmp_path / "worker-last.log"))
        done = wait_settled(client, settings.articles_stream, articles, timeout=120, idle=idle)
        time.sleep(1.0)  # room for a late duplicate to show up
    finally:
        for proc in [*workers, poller]:
            if proc.poll() is None:
                stop(proc)
    result = tally(client, settings.articles_stream, site.urls)
    record_figures(
        fault,
        seed=seed,
        kills=kills,
        articles_expected=result.expected,
        on_stream=result.on_stream,
        duplicates=result.duplicates,
        lost=len(result.missing),
        recovery_s=round(done - killed_at[-1], 1),
        run_s=round(done - started, 1),
        fetches=sum(origin.count(f"/news/{i}") for i in range(articles)),
    )
    assert result.missing == []
    assert result.duplicates == 0
    assert result.exact
    assert dead_letters(client, settings.dead_stream) == []


@pytest.mark.timeout(150)
def test_worker_killed_twice_during_60_articles(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    run_with_worker_kills(
        origin,
        redis_client,
        redis_server.url,
        settings,
        tmp_path,
        articles=60,
        kills=2,
        seed=fault_seed(),
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_worker_killed_six_times_during_400_articles(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    run_with_worker_kills(
        origin,
        redis_client,
        redis_server.url,
        settings,
        tmp_path,
        articles=400,
        kills=6,
        seed=fault_seed(),
    )


# --- poison messages -----------------------------------------------------------------------
POISON = 999  # /news/999


def poison_handler(
    origin: Origin, worker: list[subprocess.Popen[bytes]], victims: list[int]
) -> Callable[[BaseHTTPRequestHandler], Response]:
    """A page whose every request SIGKILLs the pool process that asked for it."""

    def handler(req: BaseHTTPRequestHandler) -> Response:
        port = int(req.client_address[1])
        pid = socket_owner(port, children_of(worker[0].pid))
        if pid is not None and kill_pid(pid):
            victims.append(pid)
        return Response(body=b"", reset=True)

    return handler


Handler = Callable[
    [list[subprocess.Popen[bytes]], list[int]], Callable[[BaseHTTPRequestHandler], Response]
]


@dataclass
class PoisonRun:
    healthy: Tally
    letters: list[dict[str, str]]
    victims: list[int]
    fetches: int
    dead_letter_s: float
    all_done_s: float


def run_poison(
    origin: Origin,
    client: redis.Redis,
    redis_url: str,
    settings: Settings,
    log: Path,
    *,
    healthy: int,
    handler: Handler,
    broker_url: str | None = None,
    idle: Callable[[], bool] | None = None,
) -> PoisonRun:
    """``healthy`` articles and the poison page /news/999 in the middle of one feed, a
    worker and a poller; returns once the poison is dead-lettered and the rest published."""
    base = origin.url("")
    site = publish_site(origin, client, settings, healthy, per_feed=healthy, page_delay=0.1)
    half = healthy // 3
    items = [*range(0, half), POISON, *range(half, healthy)]
    origin.add("/feed0.xml", rss_feed(items, base=base), content_type="application/rss+xml")
    worker: list[subprocess.Popen[bytes]] = []
    victims: list[int] = []
    origin.add_handler(f"/news/{POISON}", handler(worker, victims))
    env = fault_env(redis_url, **({"broker_url": broker_url} if broker_url else {}))
    worker.append(start_worker(env, log))
    started = time.monotonic()
    try:
        with running(["poller"], env, log.with_name("poller.log")):
            wait_for(
                lambda: dead_letters(client, settings.dead_stream),
                timeout=90,
                message="the poison task dead-lettered",
            )
            dead_at = time.monotonic()
            done = wait_settled(client, settings.articles_stream, healthy, timeout=60, idle=idle)
        assert worker[0].poll() is None, "the worker main process died"
    finally:
        stop(worker[0])
    return PoisonRun(
        healthy=tally(client, settings.articles_stream, site.urls),
        letters=dead_letters(client, settings.dead_stream),
        victims=victims,
        fetches=origin.count(f"/news/{POISON}"),
        dead_letter_s=round(dead_at - started, 1),
        all_done_s=round(done - started, 1),
    )


def poison_figures(fault: str, run: PoisonRun, **extra: object) -> None:
    record_figures(
        fault,
        max_deliveries=3,
        fetches=run.fetches,
        pool_processes_killed=len(set(run.victims)),
        dead_letter_s=run.dead_letter_s,
        healthy_expected=run.healthy.expected,
        healthy_on_stream=run.healthy.on_stream,
        duplicates=run.healthy.duplicates,
        all_done_s=run.all_done_s,
        **extra,
    )


@pytest.mark.timeout(150)
def test_poison_page_killing_its_worker_is_dead_lettered_without_blocking(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """Every fetch of /news/999 SIGKILLs the pool process fetching it. The task comes
    back each time (reject_on_worker_lost), is counted, and after max_deliveries (3) it is
    dead-lettered as ``worker_lost``; the 30 healthy articles around it all arrive."""
    run = run_poison(
        origin,
        redis_client,
        redis_server.url,
        settings,
        tmp_path / "worker.log",
        healthy=30,
        handler=lambda w, v: poison_handler(origin, w, v),
    )
    poison_figures("poison_worker_killed", run)
    poison_url = origin.url(f"/news/{POISON}")
    assert [(d["reason"], d["url"]) for d in run.letters] == [("worker_lost", poison_url)]
    assert run.fetches == 3
    assert len(set(run.victims)) == 3
    assert run.healthy.exact


def freezing_handler(
    worker: list[subprocess.Popen[bytes]], victims: list[int]
) -> Callable[[BaseHTTPRequestHandler], Response]:
    """A page whose every request freezes (SIGSTOP) the pool process that asked for it: a
    process stuck where the soft time limit cannot interrupt it (C code, a blocked call)."""

    def handler(req: BaseHTTPRequestHandler) -> Response:
        pid = socket_owner(int(req.client_address[1]), children_of(worker[0].pid))
        if pid is not None:
            os.kill(pid, signal.SIGSTOP)
            victims.append(pid)
        return Response(body=b"never read", headers={"Content-Type": "text/html"})

    return handler


@pytest.mark.timeout(150)
def test_task_frozen_past_the_hard_time_limit_is_dead_lettered(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """The soft limit (4 s) cannot stop a frozen process; the hard limit (5 s) kills it. The
    message is requeued (not acknowledged), counted, and dead-lettered as ``worker_lost``
    after max_deliveries (3); the 20 healthy articles around it all arrive."""
    log = tmp_path / "worker.log"
    run = run_poison(
        origin, redis_client, redis_server.url, settings, log, healthy=20, handler=freezing_handler
    )
    hard_timeouts = count_events(log, "task_hard_timeout")
    poison_figures(
        "poison_hard_time_limit", run, task_time_limit_s=5, hard_timeouts_logged=hard_timeouts
    )
    poison_url = origin.url(f"/news/{POISON}")
    assert [(d["reason"], d["url"]) for d in run.letters] == [("worker_lost", poison_url)]
    assert run.fetches == 3
    assert hard_timeouts == 3
    assert run.healthy.exact


def test_soft_time_limit_must_be_below_the_hard_one() -> None:
    """With soft >= hard, Celery's Task.retry refuses to send the retry and rejects the
    message without requeue: every retried task would vanish, neither published nor
    dead-lettered (found by the hard-limit test above). Such settings are refused."""
    with pytest.raises(ValueError, match="must be below"):
        Settings(task_soft_time_limit=60, task_time_limit=30)
    with pytest.raises(ValueError, match="must be below"):
        Settings(task_soft_time_limit=30, task_time_limit=30)
    assert Settings(task_soft_time_limit=29, task_time_limit=30).task_time_limit == 30
