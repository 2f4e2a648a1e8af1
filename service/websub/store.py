"""I/O: WebSub subscriptions in Redis, shared by every poller (any of them may get a callback).

Keys (``<p>`` is the key prefix, ``<id>`` the feed id):
- ``<p>:websub:<id>``   HASH one subscription: hub, topic, secret, state (``requested``,
                        ``active``, ``unsubscribing``, ``denied``), lease_end, verified_at
- ``<p>:websub:due``    ZSET feed id -> when a poller must look at it next (renew the lease,
                        retry a request nobody verified, notice a lapse); claimed atomically
- ``<p>:websub:pushes`` HASH outcome -> content distributions received

The secret is stored here and nowhere else: :class:`Subscription` keeps it out of its repr,
and no log line carries it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import redis

from service.settings import Settings

STATES = ("requested", "active", "unsubscribing", "denied")

# Start a subscription request unless one for the same hub and topic is under way or active:
# one subscription per feed for the whole deployment, whichever poller saw the hub first.
_BEGIN = """
local state = redis.call('HGET', KEYS[1], 'state')
if (state == 'requested' or state == 'active' or state == 'denied')
   and redis.call('HGET', KEYS[1], 'hub') == ARGV[1]
   and redis.call('HGET', KEYS[1], 'topic') == ARGV[2] then return 0 end
local secret = redis.call('HGET', KEYS[1], 'secret')
if not secret or redis.call('HGET', KEYS[1], 'hub') ~= ARGV[1] then secret = ARGV[3] end
redis.call('HSET', KEYS[1], 'hub', ARGV[1], 'topic', ARGV[2], 'secret', secret,
           'state', 'requested', 'requested_at', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
return 1
"""

# Claim due subscriptions: their score moves to the end of a short claim (ARGV[2]).
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
return due
"""


@dataclass(frozen=True)
class Subscription:
    feed_id: str
    hub: str
    topic: str
    secret: str = field(repr=False)
    state: str
    lease_end: float = 0.0
    verified_at: float = 0.0

    def active(self, now: float) -> bool:
        return self.state == "active" and self.lease_end > now


class SubscriptionStore:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.prefix = settings.key_prefix
        self._begin = client.register_script(_BEGIN)
        self._claim = client.register_script(_CLAIM)

    def key(self, fid: str) -> str:
        return f"{self.prefix}:websub:{fid}"

    @property
    def due_key(self) -> str:
        return f"{self.prefix}:websub:due"

    @property
    def pushes_key(self) -> str:
        return f"{self.prefix}:websub:pushes"

    def get(self, fid: str) -> Subscription | None:
        data = {str(k): str(v) for k, v in self.client.hgetall(self.key(fid)).items()}
        if not data.get("secret"):
            return None
        return Subscription(
            feed_id=fid,
            hub=data.get("hub", ""),
            topic=data.get("topic", ""),
            secret=data["secret"],
            state=data.get("state", ""),
            lease_end=float(data.get("lease_end") or 0),
            verified_at=float(data.get("verified_at") or 0),
        )

    def begin(self, fid: str, *, hub: str, topic: str, now: float, retry_at: float) -> bool:
        """Record a subscription request (a new random secret unless renewing at the same
        hub); False when one for this hub and topic exists already."""
        args: list[str | float] = [hub, topic, secrets.token_urlsafe(32), now, retry_at, fid]
        return bool(self._begin(keys=[self.key(fid), self.due_key], args=args))

    def renewing(self, fid: str, *, now: float, retry_at: float) -> None:
        """A renewal (same secret) is being requested."""
        pipe = self.client.pipeline()
        pipe.hset(self.key(fid), mapping={"requested_at": now})
        pipe.zadd(self.due_key, {fid: retry_at})
        pipe.execute()

    def activate(self, fid: str, *, lease_seconds: float, now: float, renew_at: float) -> None:
        pipe = self.client.pipeline()
        pipe.hset(
            self.key(fid),
            mapping={"state": "active", "lease_end": now + lease_seconds, "verified_at": now},
        )
        pipe.zadd(self.due_key, {fid: renew_at})
        pipe.execute()

    def set_state(self, fid: str, state: str, *, due_at: float | None = None) -> None:
        pipe = self.client.pipeline()
        pipe.hset(self.key(fid), "state", state)
        if due_at is not None:
            pipe.zadd(self.due_key, {fid: due_at})
        pipe.execute()

    def delete(self, fid: str) -> None:
        pipe = self.client.pipeline()
        pipe.delete(self.key(fid))
        pipe.zrem(self.due_key, fid)
        pipe.execute()

    def claim_due(self, *, now: float, claim: float, limit: int = 50) -> list[str]:
        ids = self._claim(keys=[self.due_key], args=[now, now + claim, limit])
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]

    def count_push(self, outcome: str) -> None:
        self.client.hincrby(self.pushes_key, outcome, 1)

    def pushes(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.client.hgetall(self.pushes_key).items()}

    def all(self, ids: list[str]) -> list[Subscription]:
        found = (self.get(fid) for fid in ids)
        return [sub for sub in found if sub is not None]
