"""One total deadline per fetch, visible to every socket operation of that fetch.

``httpx`` timeouts apply per operation: a server that drips one byte a second resets the
read timeout on every byte. The fetcher therefore sets a :class:`Deadline` for the whole
fetch (connect, redirects, headers, body) in a context variable; the guarded network
streams clamp each read, write, connect and TLS handshake to the time left, and the body
loop checks it between chunks. Context variables follow threads and asyncio tasks, so
concurrent fetches of one :class:`AsyncFetcher` each see their own deadline, even on a
pooled connection opened by another fetch.

A deadline may also hold a minimum rate (page fetches: ``NEWSWIRE_MIN_FETCH_RATE``): from
the first byte of a response on, the bytes received must keep up with ``min_rate`` bytes a
second once ``grace`` seconds have passed; reads are cut short at the moment the rate would
fall below it, so a response that drips (or stalls after its first byte) is refused as
``too_slow`` within about ``grace`` seconds instead of holding a worker until the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from service.errors import Reason, TransientError

RATE_CHECK_MIN = 0.05  # a read cut short to look at the rate waits at least this long


class SlowResponse(Exception):
    """Raised by a network stream: the response arrives slower than the minimum rate."""


class Deadline:
    """A point in (monotonic) time by which a fetch must be done (and a minimum rate)."""

    def __init__(
        self,
        seconds: float,
        *,
        min_rate: float = 0.0,
        grace: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.min_rate = min_rate
        self.grace = grace
        self._clock = clock
        self.at = clock() + seconds
        self._first_byte: float | None = None
        self._bytes = 0

    def remaining(self) -> float:
        return self.at - self._clock()

    def clamp(self, timeout: float | None, *, reading: bool = False) -> float:
        """``timeout`` shortened to the time left (never negative); a read also to the
        moment the minimum rate must be checked."""
        left = max(self.remaining(), 0.0)
        if reading and (check_at := self._rate_check_at()) is not None:
            left = min(left, max(check_at - self._clock(), RATE_CHECK_MIN))
        return left if timeout is None else min(timeout, left)

    def hop_timeouts(self, connect_timeout: float) -> tuple[float, float]:
        """(total, connect) seconds for one request of the fetch: what is left of the
        deadline (at least 1 ms), and connecting within ``connect_timeout`` of that."""
        left = max(self.remaining(), 0.001)
        return left, min(connect_timeout, left)

    # --- minimum rate ---------------------------------------------------------------
    def start_response(self) -> None:
        """A new request (redirect hop): its rate is measured from its own first byte."""
        self._first_byte = None
        self._bytes = 0

    def received(self, nbytes: int) -> None:
        """``nbytes`` arrived; raises :class:`SlowResponse` when the rate is too low."""
        if nbytes and self._first_byte is None:
            self._first_byte = self._clock()
        self._bytes += nbytes
        self.check_rate()

    def _rate_check_at(self) -> float | None:
        """When, if nothing more arrives, the rate falls below the minimum."""
        if self.min_rate <= 0 or self._first_byte is None:
            return None
        return self._first_byte + max(self.grace, self._bytes / self.min_rate)

    def check_rate(self) -> None:
        check_at = self._rate_check_at()
        if check_at is None or self._clock() < check_at:
            return
        assert self._first_byte is not None
        elapsed = self._clock() - self._first_byte
        raise SlowResponse(
            f"{self._bytes} bytes in {elapsed:.1f} s since the first byte, below the "
            f"minimum of {self.min_rate:g} bytes/s"
        )

    def check(self, url: str) -> None:
        """Raise a transient ``TIMEOUT`` error once the deadline has passed."""
        if self.remaining() <= 0:
            raise timeout_error(url, self.seconds)


def timeout_error(url: str, seconds: float) -> TransientError:
    return TransientError(
        f"{url}: not done within the {seconds:g} s fetch deadline", reason=Reason.TIMEOUT
    )


_CURRENT: ContextVar[Deadline | None] = ContextVar("newswire_fetch_deadline", default=None)


def current_deadline() -> Deadline | None:
    return _CURRENT.get()


@contextmanager
def deadline_scope(deadline: Deadline) -> Iterator[Deadline]:
    """Make ``deadline`` the current one for the duration of the block."""
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)
