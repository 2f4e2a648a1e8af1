"""I/O: the feed registry, its schedule and per-feed state, and the seen-sets, in Redis.

Keys (``<p>`` is the key prefix):
- ``<p>:feeds``            HASH feed id -> URL (the registry)
- ``<p>:feed:<id>``        HASH state of one feed (see :class:`FeedState`)
- ``<p>:schedule``         ZSET feed id -> unix time (Redis' clock) it is due; a claimed
                           feed's score is pushed to the end of its lease, so no other
                           poller takes it; that score is the lease
- ``<p>:leases``           HASH feed id -> the poller holding its lease (while one does)
- ``<p>:seen:<id>``        ZSET entry id -> first seen (bounded to ``seen_per_feed``)
- ``<p>:seenfp:<id>``      HASH entry id -> fingerprint of what the feed said (edits)
- ``<p>:items:<id>``       STRING the item hashes of the feed's last parsed document
                           (``service.feeds.memory.FeedMemory``: bounded by the items of
                           one document, ``max_items_per_poll``)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import redis
from redis.typing import EncodableT, FieldT

from newswire_consumer.groups import as_text, decode_fields
from service.hashing import short_hash
from service.models import FeedEntry
from service.settings import Settings
from service.urls import normalize_url

# Every time in the schedule is Redis' clock (TIME), never a poller's: pollers on machines
# whose clocks disagree still agree on when a feed is due and when a lease ends. Lease ends
# are written and returned as exact millisecond strings, so a lease is its score.
_NOW = """
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# Due feeds (score <= now), oldest first, up to ARGV[1], as one string of "id url" lines
# (url '' if removed): one reply string, not hundreds (the client's cost is per string).
_DUE = (
    _NOW
    + """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms / 1000, 'LIMIT', 0, ARGV[1])
if #ids == 0 then return '' end
local urls = redis.call('HMGET', KEYS[2], unpack(ids))
local out = {}
for i, id in ipairs(ids) do out[i] = id .. ' ' .. (urls[i] or '') end
return table.concat(out, '\\n')
"""
)

# Claim those of the ids in ARGV[3] (space-separated) still due: their score becomes the
# lease end (now + ARGV[1] ms), their owner ARGV[2]. Returns {now, lease end, "ids..."}.
_CLAIM = (
    _NOW
    + """
local lease = string.format('%.3f', (now_ms + tonumber(ARGV[1])) / 1000)
local ids = {}
for id in string.gmatch(ARGV[3], '%S+') do ids[#ids + 1] = id end
if #ids == 0 then return {string.format('%.3f', now_ms / 1000), lease, ''} end
local scores = redis.call('ZMSCORE', KEYS[1], unpack(ids))
local leased, owners, claimed = {}, {}, {}
for i, id in ipairs(ids) do
  local score = scores[i]
  if score and tonumber(score) <= now_ms / 1000 then
    leased[#leased + 1] = lease
    leased[#leased + 1] = id
    owners[#owners + 1] = id
    owners[#owners + 1] = ARGV[2]
    claimed[#claimed + 1] = id
  end
end
if #leased > 0 then
  redis.call('ZADD', KEYS[1], 'XX', unpack(leased))
  redis.call('HSET', KEYS[2], unpack(owners))
end
return {string.format('%.3f', now_ms / 1000), lease, table.concat(claimed, ' ')}
"""
)

# Extend the lease ARGV[2] of feed ARGV[1] by ARGV[3] ms if it still holds (nobody claimed
# the feed after it ended); returns the new lease end, or false.
_RENEW = (
    _NOW
    + """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return false end
local lease = string.format('%.3f', (now_ms + tonumber(ARGV[3])) / 1000)
redis.call('ZADD', KEYS[1], 'XX', lease, ARGV[1])
return lease
"""
)

# Finish a poll if its lease ARGV[2] still holds and the feed is still registered: save the
# state (ARGV[4..], field/value pairs, next_poll_at set here) and make the feed due in
# ARGV[3] seconds. Returns 1, or 0 when the lease was lost (nothing written).
_FINISH = (
    _NOW
    + """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
local due = string.format('%.3f', now_ms / 1000 + tonumber(ARGV[3]))
redis.call('ZADD', KEYS[1], 'XX', due, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[3], 'next_poll_at', due, unpack(fields))
return 1
"""
)

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

    @classmethod
    def from_hash(cls, data: dict[str, str]) -> FeedState:
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data:
                raw = data[f.name]
                kwargs[f.name] = (
                    float(raw) if f.type == "float" else int(raw) if f.type == "int" else raw
                )
        return cls(**kwargs)

    def to_hash(self) -> dict[FieldT, EncodableT]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}


class Registry:
    """Feeds, schedule and seen-sets of one key prefix (sync redis-py client)."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.prefix = settings.key_prefix
        self.settings = settings
        self._due = client.register_script(_DUE)
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._finish = client.register_script(_FINISH)

    @property
    def _lease_ms(self) -> int:
        """``poll_lease`` as the scripts take it (milliseconds)."""
        return round(self.settings.poll_lease * 1000)

    # -- keys -----------------------------------------------------------------------
    @property
    def feeds_key(self) -> str:
        return f"{self.prefix}:feeds"

    @property
    def schedule_key(self) -> str:
        return f"{self.prefix}:schedule"

    @property
    def leases_key(self) -> str:
        return f"{self.prefix}:leases"

    def state_key(self, fid: str) -> str:
        return f"{self.prefix}:feed:{fid}"

    def items_key(self, fid: str) -> str:
        return f"{self.prefix}:items:{fid}"

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
        pipe.hdel(self.leases_key, fid)
        pipe.delete(
            self.state_key(fid),
            f"{self.prefix}:seen:{fid}",
            f"{self.prefix}:seenfp:{fid}",
            self.items_key(fid),
        )
        return bool(pipe.execute()[0])

    def urls(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.client.hgetall(self.feeds_key).items()}

    def states(self) -> list[FeedState]:
        ids = list(self.urls())
        pipe = self.client.pipeline()
        for fid in ids:
            pipe.hgetall(self.state_key(fid))
        return [FeedState.from_hash(decode_fields(h)) for h in pipe.execute() if h]

    def state(self, fid: str) -> FeedState | None:
        data = self.client.hgetall(self.state_key(fid))
        return FeedState.from_hash(decode_fields(data)) if data else None

    def save_state(self, state: FeedState) -> None:
        self.client.hset(self.state_key(state.id), mapping=state.to_hash())

    def count(self) -> int:
        return int(self.client.hlen(self.feeds_key))

    # -- schedule -------------------------------------------------------------------
    def due(self, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` due feeds, the longest due first, as (id, URL; "" if removed)."""
        lines = as_text(self._due(keys=[self.schedule_key, self.feeds_key], args=[limit]))
        return [(fid, url) for fid, _, url in (line.partition(" ") for line in lines.splitlines())]

    def claim(self, ids: Sequence[str], *, owner: str) -> tuple[list[str], str]:
        """Atomically lease those of ``ids`` that are still due to ``owner``; returns the
        ids claimed and the lease (its end on Redis' clock, an exact string)."""
        if not ids:
            return [], ""
        args: list[str | int] = [self._lease_ms, owner, " ".join(ids)]
        reply = self._claim(keys=[self.schedule_key, self.leases_key], args=args)
        return as_text(reply[2]).split(), as_text(reply[1])

    def claim_due(self, limit: int, *, owner: str) -> tuple[list[str], str]:
        """Claim up to ``limit`` due feeds, whatever their host (tools and benches)."""
        return self.claim([fid for fid, _url in self.due(limit)], owner=owner)

    def renew(self, fid: str, lease: str) -> str | None:
        """A fresh lease for a feed whose ``lease`` still holds; None when it was lost."""
        reply = self._renew(keys=[self.schedule_key], args=[fid, lease, self._lease_ms])
        return as_text(reply) if reply else None

    def finish(self, state: FeedState, lease: str, *, due_in: float) -> bool:
        """Save ``state`` and make the feed due in ``due_in`` seconds, if ``lease`` still
        holds; False (and nothing saved) when another poller took the feed over."""
        fields = [str(v) for kv in state.to_hash().items() if kv[0] != "next_poll_at" for v in kv]
        return bool(
            self._finish(
                keys=[self.schedule_key, self.leases_key, self.state_key(state.id)],
                args=[state.id, lease, due_in, *fields],
            )
        )

    def forget(self, fid: str) -> None:
        """Drop a removed feed's schedule entry and lease."""
        pipe = self.client.pipeline()
        pipe.zrem(self.schedule_key, fid)
        pipe.hdel(self.leases_key, fid)
        pipe.execute()

    def leases(self) -> dict[str, str]:
        """Feed id -> the poller holding its lease, for leases not yet finished."""
        return decode_fields(self.client.hgetall(self.leases_key))

    def next_due(self) -> float | None:
        first = self.client.zrange(self.schedule_key, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    # -- seen-sets ------------------------------------------------------------------
    def classify(self, fid: str, entries: Sequence[FeedEntry]) -> list[tuple[FeedEntry, str]]:
        """Which entries are ``new`` and which ``changed`` (seen, different fingerprint)."""
        if not entries:
            return []
        pipe = self.client.pipeline()
        self._read_seen(pipe, fid, entries)
        scores, prints = pipe.execute()
        return _classified(entries, scores, prints)

    def renew_and_classify(
        self, fid: str, lease: str, entries: Sequence[FeedEntry]
    ) -> tuple[str | None, list[tuple[FeedEntry, str]]]:
        """``renew`` and ``classify`` in one round trip (the lease is checked before any
        entry is enqueued: the caller does nothing with the entries when it is None)."""
        pipe = self.client.pipeline(transaction=False)
        # EVAL, not the registered script: redis-py sends SCRIPT EXISTS before a pipeline's
        pipe.eval(_RENEW, 1, self.schedule_key, fid, lease, self._lease_ms)  # EVALSHAs
        if entries:
            self._read_seen(pipe, fid, entries)
        replies = pipe.execute()
        renewed = as_text(replies[0]) if replies[0] else None
        return renewed, _classified(entries, *replies[1:]) if entries else []

    def _read_seen(self, pipe: Any, fid: str, entries: Sequence[FeedEntry]) -> None:
        ids = [e.entry_id for e in entries]
        pipe.zmscore(f"{self.prefix}:seen:{fid}", ids)
        pipe.hmget(f"{self.prefix}:seenfp:{fid}", ids)

    def item_memory(self, fid: str) -> bytes | str | None:
        """What the last parse of the feed remembered of its items (see ``save_item_memory``)."""
        value: bytes | str | None = self.client.get(self.items_key(fid))
        return value

    def save_item_memory(self, fid: str, memory: bytes) -> None:
        """Kept next to the seen-set, after it: an item is remembered only once its entry
        was handled (enqueued and marked seen)."""
        self.client.set(self.items_key(fid), memory)

    def mark_seen(
        self,
        fid: str,
        entries: Iterable[FeedEntry],
        *,
        now: float,
        memory: bytes | None = None,
        also: Callable[[Any], object] | None = None,
    ) -> int:
        """Remember ``entries`` in the feed's seen-set; returns its size. In the same round
        trip and after it: the item ``memory`` (``save_item_memory``), then what ``also``
        adds to the pipeline it is given (a counter)."""
        args: list[str | float | int] = [now, self.settings.seen_per_feed]
        for entry in entries:
            args += [entry.entry_id, entry.fingerprint()]
        seen = f"{self.prefix}:seen:{fid}"
        pipe = self.client.pipeline(transaction=False)
        if len(args) == 2:
            pipe.zcard(seen)
        else:
            pipe.eval(_MARK_SEEN, 2, seen, f"{self.prefix}:seenfp:{fid}", *args)
        if memory is not None:
            pipe.set(self.items_key(fid), memory)
        if also is not None:
            also(pipe)
        return int(pipe.execute()[0])


def _classified(
    entries: Sequence[FeedEntry], scores: Sequence[object], prints: Sequence[object]
) -> list[tuple[FeedEntry, str]]:
    out: list[tuple[FeedEntry, str]] = []
    for entry, score, old in zip(entries, scores, prints, strict=True):
        if score is None:
            out.append((entry, "new"))
        elif old is not None and as_text(old) != entry.fingerprint():
            out.append((entry, "changed"))
    return out
