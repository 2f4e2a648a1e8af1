"""PURE: when to poll a feed next, learned from its publishing rate and the server's hints."""

from __future__ import annotations

import itertools
import random
import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from service.fetching.responses import MAX_RETRY_AFTER


@dataclass(frozen=True)
class Bounds:
    minimum: float
    maximum: float
    default: float

    def clamp(self, value: float) -> float:
        return max(self.minimum, min(self.maximum, value))


def learned_interval(
    previous: float, bounds: Bounds, *, new_entries: int, published: Sequence[datetime]
) -> float:
    """Half the median gap between the newest dated entries (so a feed that publishes every
    20 minutes is polled every 10); without dates, shorten after news and lengthen after
    none."""
    dates = sorted({d.timestamp() for d in published}, reverse=True)[:20]
    if len(dates) >= 3:
        gaps = [a - b for a, b in itertools.pairwise(dates) if a > b]
        if gaps:
            return bounds.clamp(statistics.median(gaps) / 2)
    previous = previous or bounds.default
    factor = 0.7 if new_entries else 1.3
    return bounds.clamp(previous * factor)


def honour_hints(interval: float, bounds: Bounds, *, hints: Sequence[float | None]) -> float:
    """Never poll more often than ``ttl``/``sy:updatePeriod``/``Cache-Control`` ask,
    but never less often than the configured maximum."""
    wanted = max([interval, *(h for h in hints if h)])
    return min(wanted, bounds.maximum)


def error_backoff(
    bounds: Bounds,
    consecutive_errors: int,
    *,
    retry_after: float | None,
    rng: random.Random | None = None,
) -> float:
    """Exponential back-off (default interval * 2^(n-1), capped, ±10 % jitter);
    ``Retry-After`` is honoured when longer (up to a day)."""
    base = min(bounds.maximum, bounds.default * 2.0 ** max(0, consecutive_errors - 1))
    jitter = float((rng or random).uniform(0.9, 1.1))
    delay = max(bounds.minimum, base * jitter)
    if retry_after:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def choose_claims(
    due: Sequence[tuple[str, str]],
    *,
    room: int,
    polling: Collection[str],
    host_load: Mapping[str, int],
    per_host: int,
) -> list[tuple[str, str]]:
    """Which of the ``due`` (feed id, host) pairs to claim, oldest first: at most ``room``,
    none this poller is polling already, and no host above ``per_host`` polls at once
    (counting ``host_load``, the polls under way per host, and the ones chosen here)."""
    load = dict(host_load)
    chosen: list[tuple[str, str]] = []
    for fid, host in due:
        if len(chosen) >= room:
            break
        if fid in polling or load.get(host, 0) >= per_host:
            continue
        load[host] = load.get(host, 0) + 1
        chosen.append((fid, host))
    return chosen
