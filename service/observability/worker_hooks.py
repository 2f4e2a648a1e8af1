"""Celery signal handlers of a newswire worker: its endpoint, readiness and task metrics.

In the parent (main) process of ``newswire worker``:
- ``worker_init``: switch metrics to multiprocess mode (before the prefork pool forks its
  children) and start the HTTP endpoint (``/metrics``, ``/livez``, ``/readyz``);
- ``worker_ready``: the consumer runs, ``/readyz`` may say 200 (Redis reachable too);
- ``worker_shutting_down`` / ``worker_shutdown``: not ready any more; stop the endpoint and
  remove the metrics directory it created.

In each pool process: ``task_prerun``/``task_postrun`` count tasks by outcome and time them;
``worker_process_shutdown`` marks the exiting process dead for the multiprocess collector.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery, signals

from service.logs import get_logger
from service.observability import metrics
from service.observability.server import Endpoint, Server, redis_check, serve
from service.settings import Settings

log = get_logger("newswire.worker")
TASK_PREFIX = "newswire."


@dataclass
class WorkerState:
    consumer_running: bool = False
    server: Server | None = None
    metrics_dir: tuple[Path, bool] | None = None
    started: dict[str, float] = field(default_factory=dict)


current = WorkerState()
_installed = False


def install(app: Celery) -> None:
    """Connect the handlers (once per process; Celery's signals are global)."""
    global _installed
    if _installed:
        return
    _installed = True
    for signal, handler in (
        (signals.worker_init, on_worker_init),
        (signals.worker_ready, on_worker_ready),
        (signals.worker_shutting_down, on_worker_shutting_down),
        (signals.worker_shutdown, on_worker_shutdown),
        (signals.worker_process_shutdown, on_process_shutdown),
        (signals.task_prerun, on_task_prerun),
        (signals.task_postrun, on_task_postrun),
    ):
        signal.connect(handler, weak=False, dispatch_uid=f"newswire.{handler.__name__}")


def _settings(sender: Any) -> Settings | None:
    app = getattr(sender, "app", None)
    settings = getattr(getattr(app, "conf", None), "newswire_settings", None)
    return settings if isinstance(settings, Settings) else None


def on_worker_init(sender: Any = None, **_: Any) -> None:
    settings = _settings(sender)
    if settings is None or settings.metrics_port is None:
        return
    try:
        current.metrics_dir = metrics.enable_multiprocess()
    except RuntimeError as exc:  # something recorded already: single-process values only
        log.warning("metrics_multiprocess_unavailable", error=str(exc))
    endpoint = Endpoint(
        "worker",
        checks={"redis": redis_check(settings), "consumer": lambda: current.consumer_running},
    )
    current.server = serve(settings, endpoint)


def on_worker_ready(**_: Any) -> None:
    current.consumer_running = True


def on_worker_shutting_down(**_: Any) -> None:
    current.consumer_running = False


def on_worker_shutdown(**_: Any) -> None:
    current.consumer_running = False
    if current.server is not None:
        current.server.close()
        current.server = None
    if current.metrics_dir is not None:
        path, created = current.metrics_dir
        metrics.disable_multiprocess(path, created=created)
        current.metrics_dir = None


def on_process_shutdown(pid: int | None = None, **_: Any) -> None:
    metrics.mark_process_dead(pid or os.getpid())


def on_task_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id and str(getattr(task, "name", "")).startswith(TASK_PREFIX):
        current.started[task_id] = time.monotonic()


def on_task_postrun(
    task_id: str | None = None,
    task: Any = None,
    retval: Any = None,
    state: str | None = None,
    **_: Any,
) -> None:
    if not task_id or not str(getattr(task, "name", "")).startswith(TASK_PREFIX):
        return
    started = current.started.pop(task_id, None)
    elapsed = None if started is None else time.monotonic() - started
    metrics.record_task(task_outcome(state, retval), elapsed)


def task_outcome(celery_state: str | None, retval: object) -> str:
    """The ``outcome`` label of ``newswire_tasks_total`` for a finished task run."""
    if celery_state == "SUCCESS":
        text = str(retval)
        if text.startswith("dead:"):
            return "dead_letter"
        if text == "deferred":
            return "deferred"
        return (
            text.removeprefix("article.")
            if text in ("article.created", "article.updated", "duplicate", "skipped")
            else "success"
        )
    return {"RETRY": "retry", "REJECTED": "requeued"}.get(str(celery_state), "failed")
