"""What the CLI commands share: settings, the Redis client, error printing."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import click
import redis

from service.connections import SENTINEL_SCHEME, parse_sentinel_url, redis_client, scheme_of
from service.redaction import redact
from service.settings import Settings


def load_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise click.ClickException(redact(f"invalid NEWSWIRE_* setting: {exc}")) from exc


def connect(settings: Settings) -> redis.Redis:
    client = redis_client(
        settings.effective_redis_url,
        decode_responses=True,
        socket_connect_timeout=5,
        socket_timeout=30,
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        raise click.ClickException(
            redact(
                f"cannot reach Redis at {settings.effective_redis_url}: {exc} "
                "(set NEWSWIRE_REDIS_URL, or use `newswire run` for an embedded server)"
            )
        ) from exc
    return client


def redis_location(url: str) -> str:
    """Where a Redis URL points, for a person: ``host:port/db``, never its credentials."""
    if scheme_of(url) == SENTINEL_SCHEME:
        found = parse_sentinel_url(url)
        sentinels = ",".join(f"{host}:{port}" for host, port in found.sentinels)
        return f"{found.service}/{found.db} via Sentinel {sentinels}"
    parts = urlsplit(url)
    db = parts.path.strip("/") or "0"
    return f"{parts.hostname or '?'}:{parts.port or 6379}/{db}"


def warn(message: str) -> None:
    click.echo(message, err=True)


def is_tty() -> bool:
    return sys.stdout.isatty()
