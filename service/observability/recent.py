"""What the HTTP endpoint read from Redis, reused for a second or two.

A scrape storm (many Prometheus replicas, a probe every second, someone with ``watch curl``)
must not become a Redis load: ``/metrics`` and ``/readyz`` serve the last reading (or the
last error) until it is ``ttl`` seconds old, and only one request at a time reads again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Recent(Generic[T]):
    """``read()``'s last result or exception, reused for ``ttl`` seconds (0: never)."""

    def __init__(
        self, read: Callable[[], T], ttl: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._read = read
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._at: float | None = None
        self._value: T | None = None
        self._error: Exception | None = None

    def __call__(self) -> T:
        with self._lock:
            now = self._clock()
            if self._at is None or now - self._at >= self._ttl:
                try:
                    self._value, self._error = self._read(), None
                except Exception as exc:  # served as it was raised, for ttl too
                    self._value, self._error = None, exc
                self._at = now
            if self._error is not None:
                raise self._error
            return self._value  # type: ignore[return-value]  # set with _at
