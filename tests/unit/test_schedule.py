"""When a feed is polled next: learned from its rate, bounded, honouring server hints."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from service.schedule import Bounds, choose_claims, error_backoff, honour_hints, learned_interval

BOUNDS = Bounds(minimum=60, maximum=3600, default=300)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_interval_is_half_the_median_publishing_gap() -> None:
    dates = [T0 - timedelta(minutes=20 * i) for i in range(10)]
    assert learned_interval(300, BOUNDS, new_entries=1, published=dates) == pytest.approx(600)


def test_interval_is_clamped_to_bounds() -> None:
    busy = [T0 - timedelta(seconds=10 * i) for i in range(10)]
    quiet = [T0 - timedelta(days=3 * i) for i in range(10)]
    assert learned_interval(300, BOUNDS, new_entries=5, published=busy) == 60
    assert learned_interval(300, BOUNDS, new_entries=0, published=quiet) == 3600


def test_without_dates_news_shortens_and_silence_lengthens() -> None:
    assert learned_interval(300, BOUNDS, new_entries=2, published=[]) < 300
    assert learned_interval(300, BOUNDS, new_entries=0, published=[]) > 300
    assert learned_interval(0, BOUNDS, new_entries=0, published=[]) == pytest.approx(390)


def test_hints_slow_polling_down_but_not_past_the_maximum() -> None:
    assert honour_hints(120, BOUNDS, hints=[900, None]) == 900
    assert honour_hints(120, BOUNDS, hints=[None, 30]) == 120
    assert honour_hints(120, BOUNDS, hints=[86_400]) == 3600


def test_error_backoff_grows_exponentially_and_is_capped() -> None:
    rng = random.Random(1)
    delays = [error_backoff(BOUNDS, n, retry_after=None, rng=rng) for n in range(1, 8)]
    assert 270 <= delays[0] <= 330
    assert 540 <= delays[1] <= 660
    assert all(d <= 3600 * 1.1 for d in delays)
    assert delays[-1] >= 3600 * 0.9


def test_retry_after_is_honoured_when_longer() -> None:
    assert error_backoff(BOUNDS, 1, retry_after=7200) == 7200
    assert error_backoff(BOUNDS, 1, retry_after=10) < 400
    assert error_backoff(BOUNDS, 1, retry_after=10**9) == 86_400


def test_claims_skip_busy_hosts_and_feeds_in_flight() -> None:
    due = [("a1", "a"), ("a2", "a"), ("b1", "b"), ("c1", "c"), ("a3", "a"), ("d1", "d")]
    chosen = choose_claims(due, room=3, polling={"c1"}, host_load={"a": 1}, per_host=2)
    assert chosen == [("a1", "a"), ("b1", "b"), ("d1", "d")]
    assert choose_claims(due, room=0, polling=set(), host_load={}, per_host=2) == []
