"""The Celery application, built from Settings.

Delivery guarantees come from here: late acknowledgement, requeue when a worker process is
lost, one message prefetched at a time, and a broker visibility timeout derived from the
task's hard time limit so a task held by a worker that died is redelivered in bounded time.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from service.queue import ARTICLE_QUEUE, PUBLISH_RETRY_POLICY
from service.settings import Settings


def broker_transport_options(settings: Settings) -> dict[str, Any]:
    """Redis transport options: redelivery of unacknowledged tasks within a bounded time.

    A message taken by a worker that dies (SIGKILL, OOM, lost machine) becomes visible again
    ``visibility_timeout`` seconds after it was delivered; the unacked sweep runs every
    ``interval`` seconds, so redelivery happens within ``visibility_timeout + interval``.
    ``visibility_timeout`` must exceed the longest a task can run (its hard time limit) or a
    slow but healthy task would be delivered twice (harmless here — publishing is idempotent —
    but wasteful). Retries are scheduled with countdowns below the visibility timeout.
    """
    visibility = settings.effective_visibility_timeout
    return {
        "visibility_timeout": visibility,
        "unacked_restore_interval": max(1, min(10, int(visibility // 4))),
        "unacked_restore_throttle": 1,
        "retry_on_timeout": True,
        "socket_keepalive": True,
        "health_check_interval": 10,
    }


def create_app(settings: Settings) -> Celery:
    app = Celery("newswire", broker=settings.effective_redis_url, set_as_current=True)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A task killed by its hard time limit must go back to the queue (the delivery count
        # then ends one that always hangs): acknowledged, it would be lost. Our tasks never
        # fail otherwise (errors are dead-lettered), so this only concerns timeouts.
        task_acks_on_failure_or_timeout=False,
        worker_prefetch_multiplier=1,
        task_default_queue=ARTICLE_QUEUE,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        broker_transport_options=broker_transport_options(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_channel_error_retry=True,
        worker_max_tasks_per_child=settings.worker_max_tasks_per_child,
        worker_max_memory_per_child=settings.worker_max_memory_per_child_kb,
        worker_concurrency=settings.worker_concurrency,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_publish_retry=True,
        task_publish_retry_policy=PUBLISH_RETRY_POLICY,
    )
    app.conf.newswire_settings = settings
    return app
