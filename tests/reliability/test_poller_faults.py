"""Pollers die mid-cycle and run side by side: none is polled by two pollers at once, every
feed a kill cut (its lease held by the dead poller) is taken over once the lease ends and
polled again, and every entry still becomes exactly one article.

Deterministic: each kill waits until the poller it kills holds a lease (read from Redis,
``<prefix>:leases``), and every check is an event (a lease released, a feed polled again, an
article on the stream), never a duration. The gaps between polls of each feed are recorded
as figures, for docs/reliability.md: they depend on the machine's load, so they are not
asserted. (A bound on them made the test fail at random: it counted one lease per request a
kill cut, but a kill also cuts claims whose request has not reached the origin yet, and the
last gap ran to after the worker's shutdown.)"""

from __future__ import annotations

import itertools
import random
import subprocess
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from service.embedded_redis import EmbeddedRedis
from service.registry import Registry
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
# Each poller alone must be able to carry every feed (20 feeds x 0.3 s / 2 s interval = 3
# polls in flight), or the gaps after a kill measure the survivor's capacity, not recovery.
CONCURRENCY = 5


def held_by(registry: Registry, proc: subprocess.Popen[bytes]) -> set[str]:
    """The feeds whose lease ``proc`` holds (owner ``host:pid:nonce``)."""
    return {fid for fid, owner in registry.leases().items() if owner.split(":")[1] == str(proc.pid)}


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
    registry = Registry(client, settings)
    site = publish_site(origin, client, settings, feeds * 3, per_feed=3, feed_delay=FEED_DELAY)
    paths = list(site.feeds)
    path_of = {fid: urlsplit(url).path for fid, url in registry.urls().items()}

    def polled_again(before: dict[str, int]) -> bool:
        return all(origin.count(path_of[fid]) > n for fid, n in before.items())

    env = fault_env(redis_url, poll_per_host=50, poll_concurrency=CONCURRENCY)
    worker = start_worker(env, tmp_path / "worker.log")
    pollers = [
        start_poller(env, tmp_path / "poller-a0.log"),
        start_poller(env, tmp_path / "poller-b0.log"),
    ]
    started = time.monotonic()
    kills_at: list[float] = []
    cut_claims: list[str] = []  # feed ids whose lease a kill left behind, once per kill
    dead: list[subprocess.Popen[bytes]] = []
    try:
        wait_for(
            lambda: all(origin.count(p) for p in paths), timeout=30, message="every feed polled"
        )
        for k in range(kills):
            which = rng.randrange(2)
            victim = pollers[which]
            wait_for(
                partial(held_by, registry, victim),
                timeout=30,
                interval=0.01,
                message="the poller to kill holding a lease",
            )
            time.sleep(rng.uniform(0, FEED_DELAY))  # anywhere in the middle of its polls
            # The sleep may have outlasted that lease: kill only while the victim holds one.
            wait_for(
                partial(held_by, registry, victim),
                timeout=30,
                interval=0.005,
                message="the poller to kill holding a lease",
            )
            kill_group(victim)
            kills_at.append(time.monotonic())
            dead.append(victim)
            cut = held_by(registry, victim)
            cut_claims += cut
            polls_at_kill = {fid: origin.count(path_of[fid]) for fid in cut}
            pollers[which] = start_poller(env, tmp_path / f"poller-{'ab'[which]}{k + 1}.log")
            # Every feed the kill cut is polled again by a live poller once its lease ends.
            wait_for(
                partial(polled_again, polls_at_kill),
                timeout=LEASE + 30,
                message="the feeds the kill cut polled again",
            )
        # No lease of a dead poller is left: each was taken over and finished by another.
        wait_for(
            lambda: not any(held_by(registry, p) for p in dead),
            timeout=LEASE + 30,
            message="the dead pollers' leases taken over",
        )
        counts = {fid: origin.count(path) for fid, path in path_of.items()}
        wait_for(
            partial(polled_again, counts),
            timeout=30,
            message="every feed polled after the last kill",
        )
        done = wait_settled(client, settings.articles_stream, len(site.urls), timeout=60)
        ended = time.monotonic()
    finally:
        for proc in pollers:
            stop(proc)
        stop(worker)

    gaps = [b - a for p in paths for a, b in itertools.pairwise(origin.times(p))]
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
        claims_cut=len(cut_claims),
        max_gap_s=round(max(gaps), 1),
        median_gap_s=round(sorted(gaps)[len(gaps) // 2], 1),
        peak_concurrent_polls_per_feed=peak,
        polls=sum(origin.count(p) for p in paths),
        articles_expected=result.expected,
        on_stream=result.on_stream,
        duplicates=result.duplicates,
        lost=len(result.missing),
        settle_s=round(done - started, 1),
        run_s=round(ended - started, 1),
        first_cycle_s=round(max(origin.times(p)[0] for p in paths) - started, 1),
    )
    assert cut_claims, "no kill landed while the killed poller held a claim"
    assert peak == 1, "a feed was polled by two pollers at once"
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
