"""The task queue: its names, the broker configuration poller and workers share, and the
producer the poller uses to enqueue article tasks.

On Redis (one server or a Sentinel primary) the queue is ``<prefix>.articles`` and every key
kombu writes carries ``<prefix>:`` (``global_keyprefix``), so deployments with different
``NEWSWIRE_KEY_PREFIX`` share one database without taking each other's tasks. A task taken by
a worker that died comes back after the visibility timeout (workers/app.py).

On RabbitMQ (``amqp://``) the queue is a replicated *quorum* queue of the same name on a topic
exchange (Celery's native delayed delivery carries retries with a countdown), publishes wait
for the broker's confirm, and a message returned too often (``x-delivery-limit``) moves to
``<prefix>.articles.overflow``, which the workers also consume, instead of being dropped. The
task's own delivery count (workers/base.py) dead-letters a poison task as ``worker_lost``
after ``NEWSWIRE_MAX_DELIVERIES``, well before that broker limit.
"""

from __future__ import annotations

from typing import Any

import redis
from amqp.exceptions import AMQPError
from celery import Celery
from kombu import Connection, Exchange, Queue
from kombu.exceptions import KombuError

from service.connections import CONNECT_TIMEOUT, kombu_broker, redis_client
from service.logs import get_logger
from service.settings import Settings

log = get_logger("newswire.queue")

FETCH_ARTICLE = "newswire.fetch_article"
PUBLISH_RETRY_POLICY = {
    "max_retries": 30,
    "interval_start": 0.2,
    "interval_step": 0.5,
    "interval_max": 3,
}
# Returns beyond NEWSWIRE_MAX_DELIVERIES that RabbitMQ allows before it moves a message to the
# overflow queue: rejects while Redis is away count as returns on a quorum queue.
DELIVERY_LIMIT_MARGIN = 10


def task_queues(settings: Settings) -> list[Queue]:
    """The queues workers consume: the article queue (and its overflow on RabbitMQ)."""
    name = settings.article_queue
    if settings.broker_kind != "amqp":
        return [Queue(name, Exchange(name, type="direct"), routing_key=name)]
    overflow = f"{name}.overflow"
    quorum = {"x-queue-type": "quorum"}
    main = Queue(
        name,
        Exchange(name, type="topic"),
        routing_key=name,
        queue_arguments={
            **quorum,
            "x-delivery-limit": settings.max_deliveries + DELIVERY_LIMIT_MARGIN,
            "x-dead-letter-exchange": overflow,
            "x-dead-letter-routing-key": overflow,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )
    spill = Queue(
        overflow, Exchange(overflow, type="topic"), routing_key=overflow, queue_arguments=quorum
    )
    return [main, spill]


def broker_transport_options(settings: Settings) -> dict[str, Any]:
    """Transport options of the broker connection (both the producer and the workers).

    Redis: a message taken by a worker that dies (SIGKILL, OOM, lost machine) becomes visible
    again ``visibility_timeout`` seconds after it was delivered; the unacked sweep runs every
    ``interval`` seconds, so redelivery happens within ``visibility_timeout + interval``.
    ``visibility_timeout`` must exceed the longest a task can run (its hard time limit) or a
    slow but healthy task would be delivered twice (harmless here — publishing is idempotent —
    but wasteful). Retries are scheduled with countdowns below the visibility timeout.
    RabbitMQ needs none of this (an unacknowledged message returns when its channel closes):
    publisher confirms only.
    """
    if settings.broker_kind == "amqp":
        return {"confirm_publish": True}
    _url, sentinel = kombu_broker(settings.effective_broker_url)
    visibility = settings.effective_visibility_timeout
    return {
        **sentinel,
        # A publish on a connection that never answers would otherwise wait forever (kombu's
        # default), holding a poller thread; workers' BRPOPs wait 1 s, well below it.
        "socket_timeout": settings.broker_socket_timeout,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "global_keyprefix": f"{settings.key_prefix}:",
        "visibility_timeout": visibility,
        "unacked_restore_interval": max(1, min(10, int(visibility // 4))),
        "unacked_restore_throttle": 1,
        "retry_on_timeout": True,
        "socket_keepalive": True,
        "health_check_interval": 10,
    }


def broker_config(settings: Settings) -> dict[str, Any]:
    """The Celery settings of the broker, the same for the producer and the workers."""
    url, _sentinel = kombu_broker(settings.effective_broker_url)
    config: dict[str, Any] = {
        "broker_url": url,
        "broker_transport_options": broker_transport_options(settings),
        "broker_connection_retry_on_startup": True,
        "task_queues": task_queues(settings),
        "task_default_queue": settings.article_queue,
        "task_create_missing_queues": False,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_publish_retry": True,
        "task_publish_retry_policy": PUBLISH_RETRY_POLICY,
    }
    if settings.broker_kind == "amqp":
        config.update(task_default_queue_type="quorum", worker_detect_quorum_queues=True)
    return config


def broker_queue_key(settings: Settings) -> str | None:
    """The Redis list holding queued tasks when the broker is the data Redis, else None."""
    if settings.effective_broker_url != settings.effective_redis_url:
        return None
    return f"{settings.key_prefix}:{settings.article_queue}"  # kombu's global_keyprefix


def broker_unacked_key(settings: Settings) -> str:
    """The Redis hash of tasks delivered and not yet acknowledged (Redis broker only)."""
    return f"{settings.key_prefix}:unacked"


def queue_depth(settings: Settings, *, timeout: float = 2.0) -> int | None:
    """Tasks waiting in the article queue of any broker (None: the broker did not answer)."""
    if settings.broker_kind != "amqp":
        client = redis_client(
            settings.effective_broker_url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        try:
            return int(client.llen(f"{settings.key_prefix}:{settings.article_queue}"))
        except redis.RedisError as exc:
            log.warning("queue_depth_unavailable", error=str(exc))
            return None
        finally:
            client.close()
    try:
        with Connection(settings.effective_broker_url, connect_timeout=timeout) as conn:
            channel: Any = conn.default_channel
            declared = channel.queue_declare(queue=settings.article_queue, passive=True)
            return int(declared.message_count)
    except (OSError, KombuError, AMQPError) as exc:  # a queue not declared yet: unknown
        log.warning("queue_depth_unavailable", error=str(exc))
        return None


def task_repr(url: str, feed_url: str) -> str:
    """How an article task is shown (``kwargsrepr``): its URLs, never the entry's content."""
    return repr({"url": url[:512], "feed_url": feed_url[:512], "entry": "…"})


class Enqueuer:
    """Sends ``newswire.fetch_article`` tasks to the broker (kombu retries while it is away)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = Celery("newswire-producer", set_as_current=False)
        config = broker_config(settings)
        if settings.broker_kind == "amqp":
            # The producer's reads and writes (the publish, its confirm) time out like a Redis
            # broker's commands; not the workers', whose consumer may sit idle longer.
            config["broker_transport_options"] = {
                **config["broker_transport_options"],
                "read_timeout": settings.broker_socket_timeout,
                "write_timeout": settings.broker_socket_timeout,
            }
        self.app.conf.update(
            config,
            # No results are kept (the disabled backend): one backend object for every thread
            # of the poller, not one built (entry points scanned, ~50 ms) per thread.
            result_backend_thread_safe=True,
        )

    def enqueue(self, url: str, feed_url: str, entry: dict[str, Any] | None) -> None:
        self.app.send_task(
            FETCH_ARTICLE,
            kwargs={"url": url, "feed_url": feed_url, "entry": entry},
            queue=self.settings.article_queue,
            # What logs and monitors show of the task, written here: Celery's safe repr of
            # the whole entry (its content included) was a third of an enqueue's CPU.
            argsrepr="()",
            kwargsrepr=task_repr(url, feed_url),
        )

    def close(self) -> None:
        self.app.close()
