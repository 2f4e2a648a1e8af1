"""The Celery app instance for ``celery -A workers.main`` and ``newswire worker``."""

from __future__ import annotations

from service.extraction.language import detect_language
from service.logs import configure_logging
from service.settings import Settings
from workers.app import create_app
from workers.tasks import register_tasks

settings = Settings()
configure_logging(settings, process="worker")
app = create_app(settings)
register_tasks(app)
# Load the language model (~90 MB, ~1-2 s of CPU) here, before the prefork pool forks:
# every pool process shares it copy-on-write instead of loading its own inside its first
# task's time limit (again after each replacement: kills, max tasks or memory per child).
detect_language("newswire loads its language model once, before the worker pool forks.")
