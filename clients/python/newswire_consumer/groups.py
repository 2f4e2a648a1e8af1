"""Consumer-group primitives on a Redis stream: create, read (reclaiming), trimmed entries.

Plain functions over a redis-py client; :mod:`newswire_consumer.consumer` builds the
``consume`` loop on them, and the newswire service uses them for ``newswire tail --group``
and ``newswire status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis

Entry = tuple[str, dict[str, str]]


def as_text(value: object) -> str:
    """A Redis reply as ``str`` whatever the client's decoding (bytes are UTF-8)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def decode_fields(fields: Mapping[Any, Any]) -> dict[str, str]:
    """A stream entry's fields as ``str -> str`` whatever the client's decoding."""
    return {as_text(k): as_text(v) for k, v in fields.items()}


def ensure_group(client: redis.Redis, stream: str, group: str, *, start: str = "0") -> None:
    """Create the consumer group (and the stream) if it does not exist yet."""
    try:
        client.xgroup_create(stream, group, id=start, mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def read_group(
    client: redis.Redis,
    stream: str,
    group: str,
    consumer: str,
    *,
    count: int = 100,
    block_ms: int = 2000,
    reclaim_idle_ms: int = 60_000,
) -> list[Entry]:
    """Entries for this consumer: first ones left pending by dead consumers (XAUTOCLAIM),
    then new ones (XREADGROUP ``>``). Acknowledge each with ``XACK`` once handled."""
    out: list[Entry] = []
    if reclaim_idle_ms > 0:
        reclaimed: Any = client.xautoclaim(
            stream, group, consumer, min_idle_time=reclaim_idle_ms, start_id="0-0", count=count
        )
        out += [(as_text(i), decode_fields(f)) for i, f in reclaimed[1] if f]
    if out:
        return out
    resp: Any = client.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms)
    for _stream, entries in resp or []:
        out += [(as_text(i), decode_fields(f)) for i, f in entries]
    return out


def read_own_pending(
    client: redis.Redis, stream: str, group: str, consumer: str, *, count: int = 100
) -> list[Entry]:
    """Entries delivered to this consumer earlier and never acknowledged (a crash between
    delivery and ``XACK``): read them again before new ones."""
    resp: Any = client.xreadgroup(group, consumer, {stream: "0"}, count=count)
    out: list[Entry] = []
    for _stream, entries in resp or []:
        out += [(as_text(i), decode_fields(f)) for i, f in entries if f]
    return out


def _stream_id(text: object) -> tuple[int, int]:
    ms, _, seq = as_text(text).partition("-")
    return int(ms or 0), int(seq or 0)


def trimmed_before_read(stream: Mapping[str, Any], group: Mapping[str, Any]) -> int | None:
    """How many entries ``MAXLEN`` trimming removed before this consumer group read them.

    ``stream`` and ``group`` are the replies of ``XINFO STREAM`` and ``XINFO GROUPS``. Only
    known while the group is still behind the oldest entry left (its last delivered id is
    older than the stream's first entry); ``0`` once it has caught up; ``None`` when Redis
    does not know how many entries the group has read. Redis's own ``lag`` counts trimmed
    entries as unread, so a lag above the stream's length means the same thing.
    """
    first = stream.get("recorded-first-entry-id") or (stream.get("first-entry") or [None])[0]
    last = _stream_id(group["last-delivered-id"])
    removed = int(stream.get("entries-added", 0)) - int(stream.get("length", 0))
    if first is None or removed <= 0 or last >= _stream_id(first):
        return 0
    read = group.get("entries-read")
    if read is None and last == (0, 0):
        read = 0  # a group created at "0" that has read nothing yet
    if read is None:
        return None
    return max(0, removed - int(read))


def group_trimmed_before_read(client: redis.Redis, stream: str, group: str) -> int | None:
    """:func:`trimmed_before_read` for one group, read from Redis now (0: no such group)."""
    try:
        groups: list[dict[str, Any]] = client.xinfo_groups(stream)
        info: dict[str, Any] = client.xinfo_stream(stream)
    except redis.ResponseError:  # no such stream
        return 0
    for g in groups:
        if as_text(g["name"]) == group:
            return trimmed_before_read(info, g)
    return 0
