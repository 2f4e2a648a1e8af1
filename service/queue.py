"""The task queue's names, and the producer the poller uses to enqueue article tasks."""

from __future__ import annotations

from typing import Any

from celery import Celery

from service.settings import Settings

ARTICLE_QUEUE = "newswire.articles"
FETCH_ARTICLE = "newswire.fetch_article"
PUBLISH_RETRY_POLICY = {
    "max_retries": 30,
    "interval_start": 0.2,
    "interval_step": 0.5,
    "interval_max": 3,
}


class Enqueuer:
    """Sends ``newswire.fetch_article`` tasks to the broker (kombu retries while Redis is away)."""

    def __init__(self, settings: Settings) -> None:
        self.app = Celery(
            "newswire-producer", broker=settings.effective_redis_url, set_as_current=False
        )
        self.app.conf.update(
            task_serializer="json",
            accept_content=["json"],
            broker_connection_retry_on_startup=True,
            task_publish_retry=True,
            task_publish_retry_policy=PUBLISH_RETRY_POLICY,
        )

    def enqueue(self, url: str, feed_url: str, entry: dict[str, Any] | None) -> None:
        self.app.send_task(
            FETCH_ARTICLE,
            kwargs={"url": url, "feed_url": feed_url, "entry": entry},
            queue=ARTICLE_QUEUE,
        )

    def queue_depth(self) -> int:
        with self.app.connection_for_write() as conn:
            client: Any = conn.default_channel.client  # type: ignore[attr-defined]
            return int(client.llen(ARTICLE_QUEUE))

    def close(self) -> None:
        self.app.close()
