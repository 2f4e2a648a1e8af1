"""``newswire status``: feeds, last polls, errors, stream lengths, consumer lag, dead letters."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import click
import orjson
import redis

from service.cli.common import connect, load_settings
from service.queue import ARTICLE_QUEUE
from service.registry import Registry
from service.settings import Settings
from service.streams import group_positions


def collect_status(client: redis.Redis, settings: Settings) -> dict[str, Any]:
    """Everything `status` shows, as plain data (also used by tests and metrics)."""
    registry = Registry(client, settings)
    feeds = sorted(registry.states(), key=lambda s: s.url)
    return {
        "feeds": [
            {
                "url": s.url,
                "title": s.title,
                "last_poll_at": s.last_poll_at or None,
                "last_result": s.last_result,
                "last_error": s.last_error,
                "next_poll_at": s.next_poll_at or None,
                "entries_seen": s.entries_seen,
                "consecutive_errors": s.consecutive_errors,
                "interval": s.interval,
            }
            for s in feeds
        ],
        "streams": {
            settings.articles_stream: {
                "length": client.xlen(settings.articles_stream),
                "groups": group_positions(client, settings.articles_stream),
            },
            settings.dead_stream: {"length": client.xlen(settings.dead_stream)},
        },
        "dead_by_reason": {
            k: int(v) for k, v in client.hgetall(f"{settings.key_prefix}:dead:counts").items()
        },
        "queue_depth": client.llen(ARTICLE_QUEUE),
    }


def _when(ts: float | None) -> str:
    if not ts:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _unknown(value: object) -> str:
    return "unknown" if value is None else str(value)


def _print_table(data: dict[str, Any]) -> None:
    now = time.time()
    click.echo(
        f"{'feed':60} {'last poll (UTC)':19} {'result':12} {'next in':>8} {'seen':>5} {'errors':>6}"
    )
    for f in data["feeds"]:
        nxt = f"{max(0, (f['next_poll_at'] or now) - now):.0f}s"
        click.echo(
            f"{f['url'][:60]:60} {_when(f['last_poll_at']):19} {f['last_result'] or '-':12}"
            f" {nxt:>8} {f['entries_seen']:>5} {f['consecutive_errors']:>6}"
        )
        if f["last_error"]:
            click.echo(f"    last error: {f['last_error'][:120]}")
    click.echo("")
    for name, info in data["streams"].items():
        click.echo(f"stream {name}: {info['length']} entries")
        for g in info.get("groups", []):
            click.echo(
                f"  group {g['name']}: lag {_unknown(g['lag'])}, pending {g['pending']}, "
                f"consumers {g['consumers']}"
            )
            if g["trimmed_before_read"] != 0:
                click.echo(
                    f"    WARNING: {_unknown(g['trimmed_before_read'])} entries were "
                    "trimmed (MAXLEN) before this group read them"
                )
    dead = ", ".join(f"{k} {v}" for k, v in sorted(data["dead_by_reason"].items())) or "none"
    click.echo(f"dead letters by reason: {dead}")
    click.echo(f"article tasks queued: {data['queue_depth']}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def status(as_json: bool) -> None:
    """Show feeds, their last poll and errors, stream lengths, lag and dead letters."""
    settings = load_settings()
    data = collect_status(connect(settings), settings)
    if as_json:
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        _print_table(data)
