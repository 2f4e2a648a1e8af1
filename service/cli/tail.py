"""``newswire tail``: follow the article stream, plainly or as a consumer group."""

from __future__ import annotations

import socket
import time
from typing import Any

import click
import orjson
import redis

from newswire_consumer import ArticleEvent, consume
from newswire_consumer.groups import decode_fields
from service.cli.common import connect, load_settings, warn


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


def render_event(event: ArticleEvent, *, as_json: bool) -> str:
    """One event read through the consumer library, shown as :func:`render` shows it."""
    fields = {
        "type": event.type,
        "id": event.id,
        "schema_version": str(event.schema_version),
        "content_hash": event.content_hash,
        "data": event.article.model_dump_json(),
    }
    return render(event.stream_id, fields, as_json=as_json)


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
        consume(
            lambda event: click.echo(render_event(event, as_json=as_json)),
            client=client,
            stream=stream,
            group=group,
            consumer=consumer,
            start="0" if from_start else "$",
            batch=100,
            block=1.0,
            reclaim_after=reclaim_after,
            max_events=limit,
            idle_exit=idle_exit,
            on_trimmed=lambda lost: warn(
                f"WARNING: {lost} entries were trimmed (MAXLEN) before group {group} read them"
            ),
        )
        return
    last, seen, idle_since = ("0" if from_start else "$"), 0, time.monotonic()
    while limit is None or seen < limit:
        batch = _plain(client, stream, last, 100)
        for entry_id, fields in batch[: None if limit is None else limit - seen]:
            click.echo(render(entry_id, fields, as_json=as_json))
            last, seen, idle_since = entry_id, seen + 1, time.monotonic()
        if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
            break
