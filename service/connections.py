"""Where newswire's Redis and broker connections come from: one place for every client.

Two URL forms name a Redis:

- ``redis://[:password@]host:port/db`` (or ``rediss://``, ``unix://``): one server;
- ``redis+sentinel://[:password@]host:port[,host:port…]/SERVICE_NAME[/DB]``: the primary of
  ``SERVICE_NAME`` as the listed Sentinels report it. The client asks the Sentinels again on
  every new connection, so after a failover it follows the promoted replica by itself, without
  a restart. The password (if any) is the one of the Redis servers, not of the Sentinels.

The broker URL (``NEWSWIRE_BROKER_URL``) may also be ``amqp://user:pass@host:port/vhost``
(RabbitMQ). :func:`kombu_broker` turns a Sentinel URL into what kombu's ``sentinel://``
transport wants (one ``sentinel://`` URL per Sentinel, the service as ``master_name``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

from service.redaction import redact

SENTINEL_SCHEME = "redis+sentinel"
CONNECT_TIMEOUT = 5.0  # seconds to connect to a Redis (data or broker) before giving up
REDIS_SCHEMES = ("redis", "rediss", "unix", SENTINEL_SCHEME)
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")
BrokerKind = Literal["redis", "sentinel", "amqp"]


class ConnectionURLError(ValueError):
    """A Redis or broker URL newswire cannot use (the message never holds the password)."""


@dataclass(frozen=True)
class SentinelURL:
    """A parsed ``redis+sentinel://`` URL."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int
    username: str | None
    password: str | None


def scheme_of(url: str) -> str:
    return urlsplit(url).scheme.lower()


def parse_sentinel_url(url: str) -> SentinelURL:
    """Parse ``redis+sentinel://[:pw@]h:p[,h:p…]/SERVICE[/DB]``; raises ConnectionURLError."""
    parts = urlsplit(url)
    if parts.scheme.lower() != SENTINEL_SCHEME:
        raise ConnectionURLError(f"not a {SENTINEL_SCHEME}:// URL: {redact(url)}")
    hostlist = parts.netloc.rpartition("@")[2]
    sentinels = []
    for item in hostlist.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ConnectionURLError(
                f"{redact(url)}: each Sentinel must be HOST:PORT, got {item!r}"
            )
        sentinels.append((host.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ConnectionURLError(
            f"{redact(url)}: the path must be /SERVICE_NAME or /SERVICE_NAME/DB"
        )
    return SentinelURL(
        sentinels=tuple(sentinels),
        service=unquote(path[0]),
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def check_redis_url(url: str) -> None:
    """Refuse a URL that is not a Redis one (e.g. RabbitMQ's amqp:// as NEWSWIRE_REDIS_URL)."""
    scheme = scheme_of(url)
    if scheme not in REDIS_SCHEMES:
        raise ConnectionURLError(
            f"{redact(url)} is not a Redis URL (schemes: {', '.join(REDIS_SCHEMES)}); the "
            "registry, seen-sets and streams need Redis: an amqp:// URL belongs in "
            "NEWSWIRE_BROKER_URL"
        )
    if scheme == SENTINEL_SCHEME:
        parse_sentinel_url(url)


def broker_kind(url: str) -> BrokerKind:
    """Which broker a NEWSWIRE_BROKER_URL names; raises ConnectionURLError for others."""
    scheme = scheme_of(url)
    if scheme in AMQP_SCHEMES:
        return "amqp"
    check_redis_url(url)
    return "sentinel" if scheme == SENTINEL_SCHEME else "redis"


def redis_client(url: str, **options: Any) -> redis.Redis:
    """The one way newswire builds a Redis client: a single server or a Sentinel primary.

    ``options`` are redis-py connection options (timeouts, ``decode_responses``, retries);
    with Sentinel they apply to the primary's connections and the timeouts to the Sentinels.
    """
    check_redis_url(url)
    if scheme_of(url) != SENTINEL_SCHEME:
        return redis.Redis.from_url(url, **options)
    parsed = parse_sentinel_url(url)
    timeouts = {
        k: v for k, v in options.items() if k in ("socket_timeout", "socket_connect_timeout")
    }
    sentinel = Sentinel(list(parsed.sentinels), sentinel_kwargs=timeouts)  # type: ignore[no-untyped-call]
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        parsed.service,
        db=parsed.db,
        username=parsed.username,
        password=parsed.password,
        **options,
    )
    return client


def kombu_broker(url: str) -> tuple[str, dict[str, Any]]:
    """The broker URL and extra transport options kombu needs for ``url``."""
    if broker_kind(url) != "sentinel":
        return url, {}
    parsed = parse_sentinel_url(url)
    auth = ""
    if parsed.password is not None:
        auth = f"{parsed.username or ''}:{parsed.password}@"
    hosts = ";".join(f"sentinel://{auth}{host}:{port}" for host, port in parsed.sentinels)
    return f"{hosts}/{parsed.db}", {"master_name": parsed.service}
