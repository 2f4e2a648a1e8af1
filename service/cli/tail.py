"""``newswire tail``: follow the article stream, plainly or as a consumer group."""

from __future__ import annotations

import socket
import time
from typing import Any

import click
import orjson
import redis

from service.cli.common import connect, load_settings
from service.streams import decode_fields, ensure_group, read_group


def render(entry_id: str, fields: dict[str, str], *, as_json: bool) -> str:
    data = orjson.loads(fields.get("data", "{}"))
    if as_json:
        event = {
            "stream_id": entry_id,
            "type": fields.get("type"),
            "id": fields.get("id"),
            "schema_version": int(fields.get("schema_version", "0")),
            "content_hash": fields.get("content_hash"),
            "data": data,
        }
        return orjson.dumps(event).decode()
    when = data.get("published_at") or data.get("fetched_at") or ""
    site = (data.get("site") or {}).get("name") or (data.get("site") or {}).get("domain", "")
    kind = "updated" if fields.get("type") == "article.updated" else "new    "
    return f"{when:20}  {kind}  {data.get('title', '')}  — {site}\n{'':31}{data.get('url', '')}"


def _plain(
    client: redis.Redis, stream: str, last: str, count: int
) -> list[tuple[str, dict[str, str]]]:
    resp: Any = client.xread({stream: last}, count=count, block=1000)
    return [(i, decode_fields(f)) for _s, entries in resp or [] for i, f in entries]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One event per line as JSON (JSON Lines).")
@click.option("--group", help="Read as this consumer group (XREADGROUP, XACK, XAUTOCLAIM).")
@click.option("--consumer", default=lambda: socket.gethostname(), help="Consumer name.")
@click.option("--from-start", is_flag=True, help="Start at the oldest entry, not at new ones.")
@click.option("--count", "limit", type=int, default=None, help="Stop after this many events.")
@click.option(
    "--idle-exit",
    type=float,
    default=None,
    help="Stop after this many seconds without a new event.",
)
@click.option(
    "--reclaim-after",
    type=float,
    default=60.0,
    show_default=True,
    help="With --group: take over entries another consumer left pending this long (s).",
)
def tail(
    as_json: bool,
    group: str | None,
    consumer: str,
    from_start: bool,
    limit: int | None,
    idle_exit: float | None,
    reclaim_after: float,
) -> None:
    """Follow the article stream (newest first arriving at the bottom)."""
    settings = load_settings()
    client = connect(settings)
    stream = settings.articles_stream
    if group:
        ensure_group(client, stream, group, start="0" if from_start else "$")
    last, seen, idle_since = ("0" if from_start else "$"), 0, time.monotonic()
    while limit is None or seen < limit:
        if group:
            # never take more than --count wants: what is read stays pending on this consumer
            batch = read_group(
                client,
                stream,
                group,
                consumer,
                block_ms=1000,
                count=100 if limit is None else min(100, limit - seen),
                reclaim_idle_ms=int(reclaim_after * 1000),
            )
        else:
            batch = _plain(client, stream, last, 100)
        for entry_id, fields in batch[: None if limit is None else limit - seen]:
            click.echo(render(entry_id, fields, as_json=as_json))
            if group:
                client.xack(stream, group, entry_id)
            last, seen, idle_since = entry_id, seen + 1, time.monotonic()
        if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
            break
