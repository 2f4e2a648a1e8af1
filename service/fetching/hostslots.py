"""I/O: a per-host limit on concurrent article fetches, shared by every worker (Redis).

Each host has a sorted set of slot tokens scored by when their lease ends (Redis' own
clock, so machines with skewed clocks agree). Taking a slot drops expired leases and adds a
token if fewer than ``limit`` are held, atomically (one Lua script); giving it back removes
the token. A slot is leased for the deadline of the one fetch made in it plus
``LEASE_MARGIN`` (a page: ``fetch_timeout``; robots.txt: ``robots_timeout``), so a worker
that dies holding one frees it within seconds. A task that finds no slot within
``NEWSWIRE_ARTICLE_HOST_WAIT`` raises ``HostBusy``: the worker sends it again for later
without counting a retry (waiting for a polite slot is not a failure of the page).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import redis

from service.errors import HostBusy
from service.settings import Settings

_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 1)
return 1
"""
POLL_MIN, POLL_MAX = 0.02, 0.2  # seconds between two tries (jittered)
LEASE_MARGIN = 2.0  # seconds a lease outlasts the fetch deadline (the body's last steps)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class HostSlots:
    """Slots of ``settings.article_per_host`` concurrent fetches per host."""

    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.settings = settings
        self._take = client.register_script(_TAKE)
        self._sleep = sleep

    def key(self, host: str) -> str:
        return f"{self.settings.key_prefix}:hostslots:{host}"

    def try_take(self, host: str, token: str, *, lease: float) -> bool:
        limit = self.settings.article_per_host
        return bool(int(self._take(keys=[self.key(host)], args=[token, limit, lease])))

    def give_back(self, host: str, token: str) -> None:
        self.client.zrem(self.key(host), token)

    @contextmanager
    def slot(self, url: str, *, deadline: float) -> Iterator[None]:
        """Hold one slot of ``url``'s host for one fetch of at most ``deadline`` seconds;
        waits for one (bounded)."""
        host, token, lease = host_of(url), uuid.uuid4().hex, deadline + LEASE_MARGIN
        waited_until = time.monotonic() + self.settings.host_slot_wait
        pause = POLL_MIN
        while not self.try_take(host, token, lease=lease):
            if time.monotonic() >= waited_until:
                raise HostBusy(
                    f"{url}: no free fetch slot for {host} within "
                    f"{self.settings.host_slot_wait:g} s "
                    f"({self.settings.article_per_host} at once per host)"
                )
            self._sleep(random.uniform(POLL_MIN, pause))  # noqa: S311 - jitter
            pause = min(pause * 2, POLL_MAX)
        try:
            yield
        finally:
            self.give_back(host, token)
