"""The Celery application, built from Settings.

Delivery guarantees come from here: late acknowledgement, requeue when a worker process is
lost, one message prefetched at a time; and from the broker configuration shared with the
poller (service/queue.py): a visibility timeout derived from the task's hard time limit on
Redis, quorum queues and publisher confirms on RabbitMQ.
"""

from __future__ import annotations

from celery import Celery

from service.queue import broker_config
from service.settings import Settings
from workers import kombu_guard


def create_app(settings: Settings) -> Celery:
    kombu_guard.install()  # a worker that loses Redis must reconnect, not exit
    app = Celery("newswire", set_as_current=True)
    app.conf.update(broker_config(settings))  # broker, queues, transport options (shared)
    app.conf.update(
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A task killed by its hard time limit must go back to the queue (the delivery count
        # then ends one that always hangs): acknowledged, it would be lost. Our tasks never
        # fail otherwise (errors are dead-lettered), so this only concerns timeouts.
        task_acks_on_failure_or_timeout=False,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        broker_connection_max_retries=None,
        broker_channel_error_retry=True,
        worker_max_tasks_per_child=settings.worker_max_tasks_per_child,
        worker_max_memory_per_child=settings.worker_max_memory_per_child_kb,
        worker_concurrency=settings.worker_concurrency,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    app.conf.newswire_settings = settings
    return app
