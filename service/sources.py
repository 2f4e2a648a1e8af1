"""I/O: article tasks enqueued, counted by the kind of source that announced them.

``<p>:sources:enqueued`` HASH kind -> tasks enqueued, for kinds ``feed`` (a polled feed),
``sitemap`` (a polled sitemap), ``pushed`` (a WebSub push) and ``submitted``
(``newswire submit``). Shown by ``newswire status`` and exported as
``newswire_source_tasks_enqueued{kind}``.
"""

from __future__ import annotations

from typing import Literal

import redis

SourceKind = Literal["feed", "sitemap", "pushed", "submitted"]
KINDS: tuple[SourceKind, ...] = ("feed", "sitemap", "pushed", "submitted")


def counts_key(prefix: str) -> str:
    return f"{prefix}:sources:enqueued"


def record_enqueued(client: redis.Redis, prefix: str, kind: SourceKind, count: int) -> None:
    if count:
        client.hincrby(counts_key(prefix), kind, count)


def enqueued_by_kind(client: redis.Redis, prefix: str) -> dict[str, int]:
    stored = client.hgetall(counts_key(prefix))
    return {kind: int(stored.get(kind, 0)) for kind in KINDS}
