"""Which items of a feed longer than ``max_items`` are kept: the newest (PURE).

Feeds list newest first by convention, but not all do: one that lists oldest first would,
cut in document order, never show its new items. So when a document holds more items than
are kept, they are ranked by date, newest first (the item's published date, else its updated
date, as :func:`service.dates.parse_date` reads them); items without a date rank after
every dated one, in document order; equal dates keep document order. A feed without dates
is therefore cut in document order, as before. The kept items keep their document order.

Bounded work: dates are read only when some items must go, and then of the first and the
last ``max(limit, WINDOW)`` items only (the newest are at one end or the other in any feed
that is ordered at all; a hostile document may hold millions of items).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

T = TypeVar("T")
WINDOW = 500


def keep_newest(items: Sequence[T], limit: int, date_of: Callable[[T], datetime | None]) -> list[T]:
    """The ``limit`` newest of ``items`` (all of them when there are no more), in their
    order; ``date_of`` is only asked when some must go."""
    if len(items) <= limit:
        return list(items)
    if limit <= 0:
        return []
    window = max(limit, WINDOW)
    candidates: Sequence[int] = range(len(items))
    if len(items) > 2 * window:
        candidates = [*range(window), *range(len(items) - window, len(items))]
    ranked = sorted(candidates, key=lambda i: _rank(date_of(items[i]), i))
    kept = sorted(ranked[:limit])
    return [items[i] for i in kept]


def _rank(date: datetime | None, position: int) -> tuple[int, float, int]:
    if date is None:
        return (1, 0.0, position)
    return (0, -date.timestamp(), position)
