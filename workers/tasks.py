"""Thin Celery tasks: plain arguments in, the pure pipeline called, publish or dead-letter."""

from __future__ import annotations

from typing import Any

from celery import Celery

from service.logs import bind, clear, get_logger
from service.models import FeedEntry
from service.observability import worker_hooks
from service.observability.fetching import record_extraction_since_fetch
from service.pipeline import fetch_and_extract
from service.queue import FETCH_ARTICLE
from workers.base import NewswireTask

log = get_logger("newswire.worker")


def register_tasks(app: Celery) -> None:
    worker_hooks.install(app)  # metrics, /livez and /readyz of the worker

    @app.task(name=FETCH_ARTICLE, bind=True, base=NewswireTask)
    def fetch_article(
        self: NewswireTask, url: str, feed_url: str | None = None,
        entry: dict[str, Any] | None = None,
    ) -> str:
        """Fetch one article page, extract it, publish it (idempotently) or dead-letter it."""
        clear()
        bind(task_id=self.request.id, url=url, feed=feed_url or "")
        hint = FeedEntry.model_validate(entry) if entry else None

        def work() -> str:
            res = self.resources
            article = fetch_and_extract(res.fetcher, url, hint, self.settings)
            record_extraction_since_fetch()
            published = res.streams.publish(article)
            log.info("article_done", outcome=published.outcome, article_id=article.id)
            return published.outcome

        return self.guarded(url, feed_url, work)
