"""I/O: one feed's entries classified, enqueued and marked seen by one poll or push at a time,
across every poller (a Redis lock with an owner token and a lease), so that a push and a
poll of the same item never make two tasks."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis

from service.errors import Reason, TransientError

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
LEASE = 30.0  # a holder that died releases the lock after this long
WAIT = 10.0
STEP = 0.01


@asynccontextmanager
async def entries_lock(client: redis.Redis, prefix: str, fid: str) -> AsyncIterator[None]:
    key, token = f"{prefix}:entries-lock:{fid}", secrets.token_hex(8)
    deadline = time.monotonic() + WAIT
    while not client.set(key, token, nx=True, px=int(LEASE * 1000)):
        if time.monotonic() > deadline:
            raise TransientError(f"feed {fid}: entries lock busy", reason=Reason.TIMEOUT)
        await asyncio.sleep(STEP)
    try:
        yield
    finally:
        client.eval(_RELEASE, 1, key, token)
