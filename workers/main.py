"""The Celery app instance for ``celery -A workers.main`` and ``newswire worker``."""

from __future__ import annotations

from service.logs import configure_logging
from service.settings import Settings
from workers.app import create_app
from workers.tasks import register_tasks

settings = Settings()
configure_logging(settings, process="worker")
app = create_app(settings)
register_tasks(app)
