"""Thin Celery tasks: plain arguments in, the pure pipeline called, publish or dead-letter."""

from __future__ import annotations

import time

from celery import Celery
from structlog.contextvars import bound_contextvars

from service.identity.index import identify_article
from service.logs import get_logger
from service.observability import worker_hooks
from service.observability.metrics import record_extraction
from service.pipeline import extract_page_story
from service.queue import FETCH_ARTICLE
from workers.base import NewswireTask
from workers.payload import label, read_task

log = get_logger("newswire.worker")


def register_tasks(app: Celery) -> None:
    worker_hooks.install(app)  # metrics, /livez and /readyz of the worker

    @app.task(name=FETCH_ARTICLE, bind=True, base=NewswireTask)
    def fetch_article(
        self: NewswireTask,
        /,
        url: object = None,
        feed_url: object = None,
        entry: object = None,
        **unknown: object,
    ) -> str:
        """Fetch one article page, extract it, publish it (idempotently) or dead-letter it."""
        page_url, feed = label(url), label(feed_url) if feed_url is not None else None

        def work() -> str:
            task = read_task(  # a message this version cannot read: bad_task
                url,
                feed_url,
                entry,
                unknown,
                max_content_chars=self.settings.max_entry_content_chars,
            )
            res = self.resources
            page = res.pages.fetch(task.url)  # robots.txt, per-host slot, safe fetch
            started = time.perf_counter()
            story = extract_page_story(page, task.entry, self.settings)
            record_extraction(time.perf_counter() - started)
            article = identify_article(res.stories, story.article, claimed=story.claimed_canonical)
            published = res.streams.publish(article, task_id=self.request.id)
            log.info(
                "article_done",
                outcome=published.outcome,
                article_id=article.id,
                duplicate_of=article.duplicate_of,
            )
            return published.outcome

        with bound_contextvars(task_id=self.request.id, url=page_url, feed=feed or ""):
            return self.guarded(page_url, feed, work)
