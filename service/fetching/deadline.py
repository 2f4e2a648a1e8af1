"""One total deadline per fetch, visible to every socket operation of that fetch.

``httpx`` timeouts apply per operation: a server that drips one byte a second resets the
read timeout on every byte. The fetcher therefore sets a :class:`Deadline` for the whole
fetch (connect, redirects, headers, body) in a context variable; the guarded network
streams clamp each read, write, connect and TLS handshake to the time left, and the body
loop checks it between chunks. Context variables follow threads and asyncio tasks, so
concurrent fetches of one :class:`AsyncFetcher` each see their own deadline, even on a
pooled connection opened by another fetch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from service.errors import Reason, TransientError


class Deadline:
    """A point in (monotonic) time by which a fetch must be done."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self.at = clock() + seconds

    def remaining(self) -> float:
        return self.at - self._clock()

    def clamp(self, timeout: float | None) -> float:
        """``timeout`` shortened to the time left (never negative)."""
        left = max(self.remaining(), 0.0)
        return left if timeout is None else min(timeout, left)

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
