"""Pollers die mid-cycle and run side by side: no feed is skipped for longer than its
interval plus the claim lease (one lease for each of its polls a kill cut short) plus two
scheduling ticks, none is polled by two pollers at once, and every entry still becomes
exactly one article."""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.settings import Settings
from tests.reliability.harness import (
    FAULT_ENV,
    fault_env,
    publish_site,
    start_poller,
    start_worker,
    wait_settled,
)
from tests.support.faults import fault_seed, kill_group, record_figures, tally
from tests.support.origin import Origin
from tests.support.processes import stop, wait_for

INTERVAL = float(FAULT_ENV["poll_interval_max"])  # type: ignore[arg-type]
LEASE = float(FAULT_ENV["poll_lease"])  # type: ignore[arg-type]
FEED_DELAY = 0.3  # each feed answers this late, so a kill lands in the middle of polls
TICK = float(Settings.model_fields["poll_tick"].default)  # the fault env keeps the default
# A feed becomes due, waits for the next tick to be claimed, is answered FEED_DELAY later;
# a claim a kill cut short waits for its lease, then for a tick again. 1 s for a busy CPU.
SLACK = 2 * TICK + FEED_DELAY + 1.0
# Each poller alone must be able to carry every feed (20 feeds x 0.3 s / 2 s interval = 3
# polls in flight), or the gaps after a kill measure the survivor's capacity, not recovery.
CONCURRENCY = 5


def run_pollers_with_kills(
    origin: Origin,
    client: redis.Redis,
    redis_url: str,
    settings: Settings,
    tmp_path: Path,
    *,
    feeds: int,
    kills: int,
    seed: int,
) -> None:
    rng = random.Random(seed)
    site = publish_site(origin, client, settings, feeds * 3, per_feed=3, feed_delay=FEED_DELAY)
    paths = list(site.feeds)
    # Each poller takes at most CONCURRENCY feeds at a time: a cycle is shared by both, and
    # more than CONCURRENCY polls in flight means both pollers hold claimed feeds.
    env = fault_env(redis_url, poll_per_host=50, poll_concurrency=CONCURRENCY)
    worker = start_worker(env, tmp_path / "worker.log")
    pollers = [
        start_poller(env, tmp_path / "poller-a0.log"),
        start_poller(env, tmp_path / "poller-b0.log"),
    ]
    started = time.monotonic()
    kills_at: list[float] = []
    try:
        wait_for(
            lambda: all(origin.count(p) for p in paths),
            timeout=30,
            message="every feed polled once",
        )
        for k in range(kills):
            # Kill one of the two pollers while both have polls in flight, restart it.
            time.sleep(rng.uniform(0, INTERVAL))
            wait_for(
                lambda: origin.inflight_now(paths) > CONCURRENCY,
                timeout=30,
                interval=0.01,
                message="both pollers polling",
            )
            which = rng.randrange(2)
            kill_group(pollers[which])
            kills_at.append(time.monotonic())
            pollers[which] = start_poller(env, tmp_path / f"poller-{'ab'[which]}{k + 1}.log")
        time.sleep(LEASE + 2 * INTERVAL)  # every feed past one full lease after the last kill
        done = wait_settled(client, settings.articles_stream, len(site.urls), timeout=60)
        time.sleep(1.0)
    finally:
        for proc in pollers:
            stop(proc)
        stop(worker)
    ended = time.monotonic()

    # Gaps between completed polls of each feed. A request in flight at a kill may have
    # been the killed poller's, which never finished it: it does not count as a poll, and
    # the feed waits for that claim's lease to end. A feed can be cut by two kills in a row
    # (the poller that took it over is killed in turn), so each gap may hold one lease per
    # poll of it that a kill cut, and the interval plus slack besides.
    def cut(t: float) -> bool:
        return any(t <= k < t + FEED_DELAY + 0.1 for k in kills_at)

    def gaps_of(path: str) -> list[tuple[float, int]]:
        times = origin.times(path)
        done = [t for t in times if not cut(t)]
        return [
            (b - a, sum(1 for t in times if a < t < b and cut(t)))
            for a, b in itertools.pairwise([*done, ended])
        ]

    gaps = [gap for p in paths for gap in gaps_of(p)]
    over = [(round(g, 1), cuts) for g, cuts in gaps if g > INTERVAL + SLACK + LEASE * max(1, cuts)]
    first_poll = max(origin.times(p)[0] for p in paths) - started
    peak = max(origin.peak_inflight(p) for p in paths)
    result = tally(client, settings.articles_stream, site.urls)
    record_figures(
        "poller_killed",
        seed=seed,
        feeds=feeds,
        kills=kills,
        pollers=2,
        interval_s=INTERVAL,
        lease_s=LEASE,
        max_gap_s=round(max(g for g, _ in gaps), 1),
        max_gap_one_cut_s=round(max(g for g, c in gaps if c <= 1), 1),
        bound_s=INTERVAL + LEASE + SLACK,
        gaps_cut_twice=sum(1 for _, c in gaps if c > 1),
        gaps_over_bound=len(over),
        peak_concurrent_polls_per_feed=peak,
        polls=sum(origin.count(p) for p in paths),
        articles_expected=result.expected,
        on_stream=result.on_stream,
        duplicates=result.duplicates,
        lost=len(result.missing),
        settle_s=round(done - started, 1),
        first_cycle_s=round(first_poll, 1),
    )
    assert peak == 1, "a feed was polled by two pollers at once"
    assert over == [], "feeds left unpolled longer than interval + lease per cut poll"
    assert result.exact


@pytest.mark.timeout(150)
def test_pollers_killed_mid_cycle_and_run_side_by_side(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    run_pollers_with_kills(
        origin,
        redis_client,
        redis_server.url,
        settings,
        tmp_path,
        feeds=20,
        kills=2,
        seed=fault_seed(),
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_pollers_killed_eight_times(
    origin: Origin,
    redis_client: redis.Redis,
    redis_server: EmbeddedRedis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    run_pollers_with_kills(
        origin,
        redis_client,
        redis_server.url,
        settings,
        tmp_path,
        feeds=20,
        kills=8,
        seed=fault_seed(),
    )
