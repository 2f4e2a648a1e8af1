"""``newswire status``: feeds, last polls, errors, stream lengths, consumer lag, dead letters,
near-duplicate counts."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import click
import orjson
import redis

from service.cli.common import connect, load_settings
from service.console import FeedHealth, Snapshot
from service.queue import broker_queue_key, queue_depth
from service.redaction import redact
from service.registry import Registry
from service.settings import Settings
from service.sources import enqueued_by_kind
from service.streams import group_positions
from service.websub.store import SubscriptionStore


def collect_status(client: redis.Redis, settings: Settings) -> dict[str, Any]:
    """Everything `status` shows, as plain data (also used by tests and metrics)."""
    registry = Registry(client, settings)
    feeds = sorted(registry.states(), key=lambda s: s.url)
    return {
        "feeds": [
            {
                "url": redact(s.url),
                "title": s.title,
                "last_poll_at": s.last_poll_at or None,
                "last_result": s.last_result,
                "last_error": redact(s.last_error),
                "next_poll_at": s.next_poll_at or None,
                "entries_seen": s.entries_seen,
                "consecutive_errors": s.consecutive_errors,
                "interval": s.interval,
                "kind": s.kind,
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
        "queue_depth": _queue_depth(client, settings),
        "sources": {
            "registered": {
                kind: sum(s.kind == kind for s in feeds) for kind in ("feed", "sitemap")
            },
            "tasks_enqueued": enqueued_by_kind(client, settings.key_prefix),
        },
        "websub": websub_status(client, settings, {s.id: s.url for s in feeds}),
        "stories": story_counts(client, settings),
    }


def websub_status(client: redis.Redis, settings: Settings, urls: dict[str, str]) -> dict[str, Any]:
    """The deployment's WebSub subscriptions (never their secrets) and pushes received."""
    store = SubscriptionStore(client, settings)
    subs = store.all([str(fid) for fid in client.zrange(store.due_key, 0, -1)])
    return {
        "subscriptions": [
            {
                "feed": urls.get(sub.feed_id, ""),
                "hub": sub.hub,
                "topic": sub.topic,
                "state": sub.state,
                "lease_end": sub.lease_end or None,
            }
            for sub in subs
        ],
        "pushes": store.pushes(),
    }


def stream_entries_added(client: redis.Redis, stream: str) -> int:
    """Entries ever added to ``stream`` (trimming does not lower it); 0 before the first."""
    try:
        info: dict[str, Any] = client.xinfo_stream(stream)
    except redis.ResponseError:  # no such stream yet
        return 0
    return int(info.get("entries-added", info.get("length", 0)))


def collect_snapshot(client: redis.Redis, settings: Settings, *, now: float) -> Snapshot:
    """What the live view of `newswire run` shows; a Redis error gives ``redis_ok=False``."""
    try:
        states = Registry(client, settings).states()
        due = client.zcount(f"{settings.key_prefix}:schedule", "-inf", now)
        dead = client.hgetall(f"{settings.key_prefix}:dead:counts")
        return Snapshot(
            at=now,
            feeds=len(states),
            feeds_due=int(due),
            feeds_polled=sum(1 for s in states if s.last_poll_at),
            failing=tuple(
                FeedHealth(redact(s.url), s.consecutive_errors, redact(s.last_error))
                for s in states
                if s.consecutive_errors
            ),
            published=stream_entries_added(client, settings.articles_stream),
            duplicates=story_counts(client, settings)["duplicate"],
            dead_by_reason={str(k): int(v) for k, v in dead.items()},
            queue_depth=_queue_depth(client, settings) or 0,
        )
    except redis.RedisError:
        return Snapshot(at=now, redis_ok=False)


def story_counts(client: redis.Redis, settings: Settings) -> dict[str, Any]:
    """Stories first seen as originals or as near-duplicates (copies), copies left off the
    stream (``NEWSWIRE_DUPLICATES=skip``), and the duplicate rate (copies / stories)."""
    raw = client.hgetall(f"{settings.key_prefix}:story:counts")
    counts = {_key(k): int(v) for k, v in raw.items()}
    original, duplicate = counts.get("original", 0), counts.get("duplicate", 0)
    total = original + duplicate
    return {
        "original": original,
        "duplicate": duplicate,
        "skipped": counts.get("skipped", 0),
        "duplicate_rate": round(duplicate / total, 4) if total else None,
    }


def _key(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _queue_depth(client: redis.Redis, settings: Settings) -> int | None:
    key = broker_queue_key(settings)
    return int(client.llen(key)) if key else queue_depth(settings)


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
    click.echo(f"article tasks queued: {_unknown(data['queue_depth'])}")
    sources = data["sources"]
    registered = ", ".join(f"{k} {v}" for k, v in sources["registered"].items())
    enqueued = ", ".join(f"{k} {v}" for k, v in sources["tasks_enqueued"].items())
    click.echo(f"sources registered: {registered}; tasks enqueued by source: {enqueued}")
    websub = data["websub"]
    for sub in websub["subscriptions"]:
        click.echo(
            f"websub {sub['state']:13} lease ends {_when(sub['lease_end'])}  "
            f"{sub['feed'] or sub['topic']} via {sub['hub']}"
        )
    pushes = ", ".join(f"{k} {v}" for k, v in sorted(websub["pushes"].items())) or "none"
    click.echo(f"websub subscriptions: {len(websub['subscriptions'])}; pushes: {pushes}")
    stories = data["stories"]
    rate = stories["duplicate_rate"]
    click.echo(
        f"stories: {stories['original']} originals, {stories['duplicate']} near-duplicates "
        f"(duplicate rate {'-' if rate is None else f'{rate:.1%}'}), "
        f"{stories['skipped']} copies skipped"
    )


def _show(client: redis.Redis, settings: Settings, *, as_json: bool) -> None:
    data = collect_status(client, settings)
    if as_json:
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        _print_table(data)


def _watch(client: redis.Redis, settings: Settings, *, as_json: bool, interval: float) -> None:
    """Redraw the status every ``interval`` seconds until Ctrl-C (JSON: one document a look)."""
    try:
        while True:
            if not as_json:
                click.clear()
                click.echo(f"newswire status · every {interval:g} s · Ctrl-C to stop\n")
            try:
                _show(client, settings, as_json=as_json)
            except redis.RedisError as exc:
                click.echo(f"Redis is not answering: {type(exc).__name__}", err=True)
            time.sleep(interval)
    except KeyboardInterrupt:
        return


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--watch", is_flag=True, help="Refresh until Ctrl-C.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.2),
    default=2.0,
    show_default=True,
    help="Seconds between two refreshes of --watch.",
)
def status(as_json: bool, watch: bool, interval: float) -> None:
    """Show feeds, their last poll and errors, stream lengths, lag and dead letters."""
    settings = load_settings()
    client = connect(settings)
    if watch:
        _watch(client, settings, as_json=as_json, interval=interval)
    else:
        _show(client, settings, as_json=as_json)
