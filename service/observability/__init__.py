"""Observability of every role: Prometheus metrics, health endpoints, Celery hooks.

- :mod:`.metrics`: the instruments and the ``record_*`` functions the pipeline calls;
- :mod:`.fetching`: fetchers that measure every fetch (and the extraction after it);
- :mod:`.redis_state`: gauges read from Redis at scrape time (streams, lag, queue, feeds);
- :mod:`.server`: ``/metrics``, ``/livez``, ``/readyz`` on ``NEWSWIRE_METRICS_PORT``;
- :mod:`.worker_hooks`: Celery signals (endpoint in the parent, multiprocess metrics);
- :mod:`.probe`: the container health check (``python -m service.observability.probe``).

Nothing here imports prometheus_client at import time (see :mod:`.metrics`).
"""
