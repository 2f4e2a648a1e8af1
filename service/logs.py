"""Logging: structlog, an event name plus key-values; JSON in containers, readable on a TTY.

Context (``task_id``, ``url``, ``feed``) is bound with :func:`bind` and carried by every line
logged until it is cleared; standard-library loggers (Celery, kombu) go through the same
renderer.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from service.redaction import redact_event
from service.settings import Settings

get_logger = structlog.get_logger
bind = structlog.contextvars.bind_contextvars
clear = structlog.contextvars.clear_contextvars


def _renderer(settings: Settings) -> Any:
    fmt = settings.log_format
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())


def configure_logging(settings: Settings, *, process: str = "newswire") -> None:
    """Route structlog and stdlib logging to stderr with one format and level."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        *(
            [structlog.processors.dict_tracebacks]
            if settings.log_format == "json"
            else [structlog.processors.StackInfoRenderer(), structlog.processors.format_exc_info]
        ),
        redact_event,  # last: no password of a URL in any log line, tracebacks included
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _renderer(settings),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    structlog.contextvars.bind_contextvars(process=process)
