"""The worker's guard around kombu's restore-on-close race (workers/kombu_guard.py), on a
real Redis: a channel closed after its transport lost its client must not raise (in a
worker, that exception was an "unrecoverable error" and the process exited), and the task
it held stays unacknowledged in Redis, for the visibility timeout to restore."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from kombu import Connection
from kombu.transport import redis as kombu_redis

from workers import kombu_guard


def _with(method: object) -> Iterator[None]:
    before = kombu_redis.QoS.restore_unacked
    setattr(kombu_redis.QoS, "restore_unacked", method)  # noqa: B010
    yield
    setattr(kombu_redis.QoS, "restore_unacked", before)  # noqa: B010


@pytest.fixture
def guarded() -> Iterator[None]:
    yield from _with(kombu_guard.restore_unacked)


@pytest.fixture
def unguarded() -> Iterator[None]:
    """kombu's own method (a worker app built in this process installs the guard)."""
    yield from _with(kombu_guard._original)


def held_task(url: str) -> tuple[Connection, object]:
    """A connection whose channel holds one delivered, unacknowledged task."""
    conn = Connection(url, transport_options={"visibility_timeout": 60})
    queue = conn.SimpleQueue("guard-test")
    queue.put({"n": 1})
    message = queue.get(timeout=2)
    assert message.payload == {"n": 1}
    return conn, queue.consumer.channel


def lose_transport_client(channel: object) -> None:
    """What an earlier close leaves behind: no pool, no client on the transport."""
    channel._disconnect_pools()  # type: ignore[attr-defined]
    channel.connection.client = None  # type: ignore[attr-defined]


def test_without_the_guard_kombu_raises(
    unguarded: None, redis_client: redis.Redis, redis_server: object
) -> None:
    _conn, channel = held_task(redis_server.url)  # type: ignore[attr-defined]
    lose_transport_client(channel)
    with pytest.raises(AttributeError, match="hostname"):
        channel.close()  # type: ignore[attr-defined]


def test_the_guard_closes_quietly_and_leaves_the_task_unacknowledged(
    guarded: None, redis_client: redis.Redis, redis_server: object
) -> None:
    _conn, channel = held_task(redis_server.url)  # type: ignore[attr-defined]
    lose_transport_client(channel)
    channel.close()  # type: ignore[attr-defined]
    assert redis_client.hlen("unacked") == 1  # restored by the visibility timeout later
    assert redis_client.llen("guard-test") == 0


def test_the_guard_leaves_an_ordinary_close_to_kombu(
    guarded: None, redis_client: redis.Redis, redis_server: object
) -> None:
    conn, _channel = held_task(redis_server.url)  # type: ignore[attr-defined]
    conn.release()  # a normal close: kombu puts the task back on its queue at once
    assert redis_client.llen("guard-test") == 1
    assert redis_client.hlen("unacked") == 0
