"""I/O: the feed registry, its schedule and per-feed state, and the seen-sets, in Redis.

Keys (``<p>`` is the key prefix):
- ``<p>:feeds``            HASH feed id -> URL (the registry)
- ``<p>:feed:<id>``        HASH state of one feed (see :class:`FeedState`)
- ``<p>:schedule``         ZSET feed id -> unix time it is due; a claimed feed's score is
                           pushed to the end of its lease, so no other poller takes it
- ``<p>:seen:<id>``        ZSET entry id -> first seen (bounded to ``seen_per_feed``)
- ``<p>:seenfp:<id>``      HASH entry id -> fingerprint of what the feed said (edits)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import redis
from redis.typing import EncodableT, FieldT

from service.hashing import short_hash
from service.models import FeedEntry
from service.settings import Settings
from service.urls import normalize_url

# Claim up to ARGV[3] due feeds: their score becomes the lease end (ARGV[2]).
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
return due
"""

# Reschedule a feed only if our lease still holds (nobody re-claimed it after expiry) and
# the feed is still registered.
_FINISH = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
"""

# Record entries as seen; trim the seen-set to ARGV[2] newest, forgetting fingerprints too.
_MARK_SEEN = """
local now = ARGV[1]
local keep = tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], 'NX', now, ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
local extra = redis.call('ZCARD', KEYS[1]) - keep
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[1], 0, extra - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1)
  redis.call('HDEL', KEYS[2], unpack(old))
end
return redis.call('ZCARD', KEYS[1])
"""


def feed_id(url: str) -> str:
    """Stable id of a feed: a hash of its normalised URL."""
    return short_hash(normalize_url(url), size=10)


@dataclass
class FeedState:
    """What the registry knows about one feed. Stored as a Redis hash of strings."""

    id: str
    url: str
    title: str = ""
    added_at: float = 0.0
    etag: str = ""
    last_modified: str = ""
    body_hash: str = ""
    last_poll_at: float = 0.0
    last_result: str = ""
    last_error: str = ""
    next_poll_at: float = 0.0
    interval: float = 0.0
    consecutive_errors: int = 0
    entries_seen: int = 0
    last_new_at: float = 0.0
    failure_reported: int = 0
    kind: str = "feed"  # what the URL serves: feed | sitemap (set by the poller)
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_hash(cls, data: dict[str, str]) -> FeedState:
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data and f.name != "extra":
                raw = data[f.name]
                kwargs[f.name] = (
                    float(raw) if f.type == "float" else int(raw) if f.type == "int" else raw
                )
        return cls(**kwargs)

    def to_hash(self) -> dict[FieldT, EncodableT]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self) if f.name != "extra"}


class Registry:
    """Feeds, schedule and seen-sets of one key prefix (sync redis-py client)."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.prefix = settings.key_prefix
        self.settings = settings
        self._claim = client.register_script(_CLAIM)
        self._finish = client.register_script(_FINISH)
        self._mark_seen = client.register_script(_MARK_SEEN)

    # -- keys -----------------------------------------------------------------------
    @property
    def feeds_key(self) -> str:
        return f"{self.prefix}:feeds"

    @property
    def schedule_key(self) -> str:
        return f"{self.prefix}:schedule"

    def state_key(self, fid: str) -> str:
        return f"{self.prefix}:feed:{fid}"

    # -- registry -------------------------------------------------------------------
    def add(self, url: str, title: str | None = None, *, now: float) -> bool:
        """Register a feed, due at once; False when it was registered already."""
        fid = feed_id(url)
        if not self.client.hsetnx(self.feeds_key, fid, url):
            return False
        state = FeedState(
            id=fid,
            url=url,
            title=title or "",
            added_at=now,
            next_poll_at=now,
            interval=self.settings.poll_interval_default,
        )
        pipe = self.client.pipeline()
        pipe.hset(self.state_key(fid), mapping=state.to_hash())
        pipe.zadd(self.schedule_key, {fid: 0})
        pipe.execute()
        return True

    def remove(self, url: str) -> bool:
        fid = feed_id(url)
        pipe = self.client.pipeline()
        pipe.hdel(self.feeds_key, fid)
        pipe.zrem(self.schedule_key, fid)
        pipe.delete(self.state_key(fid), f"{self.prefix}:seen:{fid}", f"{self.prefix}:seenfp:{fid}")
        return bool(pipe.execute()[0])

    def urls(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.client.hgetall(self.feeds_key).items()}

    def states(self) -> list[FeedState]:
        ids = list(self.urls())
        pipe = self.client.pipeline()
        for fid in ids:
            pipe.hgetall(self.state_key(fid))
        return [FeedState.from_hash(_decode(h)) for h in pipe.execute() if h]

    def state(self, fid: str) -> FeedState | None:
        data = self.client.hgetall(self.state_key(fid))
        return FeedState.from_hash(_decode(data)) if data else None

    def save_state(self, state: FeedState) -> None:
        self.client.hset(self.state_key(state.id), mapping=state.to_hash())

    def count(self) -> int:
        return int(self.client.hlen(self.feeds_key))

    # -- schedule -------------------------------------------------------------------
    def claim_due(self, *, now: float, limit: int) -> tuple[list[str], float]:
        """Atomically take up to ``limit`` due feeds; returns their ids and the lease end."""
        lease_until = round(now + self.settings.poll_lease, 3)
        ids = self._claim(keys=[self.schedule_key], args=[now, lease_until, limit])
        return [_str(i) for i in ids], lease_until

    def reschedule(self, fid: str, *, lease_until: float, due_at: float) -> bool:
        """Set the next due time if our claim still holds; False if it was lost."""
        return bool(self._finish(keys=[self.schedule_key], args=[fid, lease_until, due_at]))

    def next_due(self) -> float | None:
        first = self.client.zrange(self.schedule_key, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    # -- seen-sets ------------------------------------------------------------------
    def classify(self, fid: str, entries: Sequence[FeedEntry]) -> list[tuple[FeedEntry, str]]:
        """Which entries are ``new`` and which ``changed`` (seen, different fingerprint)."""
        if not entries:
            return []
        ids = [e.entry_id for e in entries]
        pipe = self.client.pipeline()
        pipe.zmscore(f"{self.prefix}:seen:{fid}", ids)
        pipe.hmget(f"{self.prefix}:seenfp:{fid}", ids)
        scores, prints = pipe.execute()
        out: list[tuple[FeedEntry, str]] = []
        for entry, score, old in zip(entries, scores, prints, strict=True):
            if score is None:
                out.append((entry, "new"))
            elif old is not None and _str(old) != entry.fingerprint():
                out.append((entry, "changed"))
        return out

    def mark_seen(self, fid: str, entries: Iterable[FeedEntry], *, now: float) -> int:
        args: list[str | float | int] = [now, self.settings.seen_per_feed]
        for entry in entries:
            args += [entry.entry_id, entry.fingerprint()]
        if len(args) == 2:
            return int(self.client.zcard(f"{self.prefix}:seen:{fid}"))
        keys = [f"{self.prefix}:seen:{fid}", f"{self.prefix}:seenfp:{fid}"]
        return int(self._mark_seen(keys=keys, args=args))


def _str(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(data: dict[Any, Any]) -> dict[str, str]:
    return {_str(k): _str(v) for k, v in data.items()}
