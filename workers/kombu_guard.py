"""A guard around one race in kombu's Redis transport (kombu 5.7), installed by the worker.

When a worker loses its Redis broker, Celery closes the connection, and each channel's
close restores the tasks it had delivered and not acknowledged (``QoS.restore_unacked``).
The channel has already dropped its connection pool by then, so the restore builds a new
one from the transport's ``client``. If an earlier close already cleared that (seen in our
Redis outage tests, about one run in three), kombu raises ``AttributeError: 'NoneType'
object has no attribute 'hostname'``, Celery calls it an unrecoverable error, and the
worker process exits.

The guard skips that restore when the channel can no longer reach Redis. Nothing is lost:
the tasks stay in the broker's unacknowledged set, and any worker restores them after the
visibility timeout (``unacked_restore_interval``), as it would for a worker that was killed.
The worker then reconnects as usual. Every other restore runs unchanged.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis

from service.logs import get_logger

log = get_logger("newswire.worker")
_original = kombu_redis.QoS.restore_unacked


def _closed_beyond_reach(qos: Any) -> bool:
    channel = qos.channel
    transport = getattr(channel, "connection", None)
    return getattr(channel, "_pool", None) is None and getattr(transport, "client", None) is None


def restore_unacked(self: Any, client: Any = None) -> Any:
    if client is None and _closed_beyond_reach(self):
        log.warning(
            "unacked_restore_deferred",
            tasks=len(self._delivered),
            detail="the broker connection is already closed; restored after the visibility timeout",
        )
        self._delivered.clear()
        return None
    return _original(self, client)


def install() -> None:
    """Install the guard (idempotent)."""
    setattr(kombu_redis.QoS, "restore_unacked", restore_unacked)  # noqa: B010 - a patch
