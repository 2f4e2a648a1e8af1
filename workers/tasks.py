"""Thin Celery tasks: plain arguments in, the pure pipeline called, publish or dead-letter."""

from __future__ import annotations

import time
from typing import Any

from celery import Celery
from structlog.contextvars import bound_contextvars

from service.logs import get_logger
from service.models import FeedEntry
from service.observability import worker_hooks
from service.observability.metrics import record_extraction
from service.pipeline import extract_page
from service.queue import FETCH_ARTICLE
from workers.base import NewswireTask

log = get_logger("newswire.worker")


def register_tasks(app: Celery) -> None:
    worker_hooks.install(app)  # metrics, /livez and /readyz of the worker

    @app.task(name=FETCH_ARTICLE, bind=True, base=NewswireTask)
    def fetch_article(
        self: NewswireTask,
        url: str,
        feed_url: str | None = None,
        entry: dict[str, Any] | None = None,
    ) -> str:
        """Fetch one article page, extract it, publish it (idempotently) or dead-letter it."""
        hint = FeedEntry.model_validate(entry) if entry else None

        def work() -> str:
            res = self.resources
            page = res.fetcher.fetch(url, kind="page")
            started = time.perf_counter()
            article = extract_page(page, hint, self.settings)
            record_extraction(time.perf_counter() - started)
            published = res.streams.publish(article)
            log.info("article_done", outcome=published.outcome, article_id=article.id)
            return published.outcome

        with bound_contextvars(task_id=self.request.id, url=url, feed=feed_url or ""):
            return self.guarded(url, feed_url, work)
