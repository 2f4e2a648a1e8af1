"""``newswire poller`` and ``newswire worker``: the two long-running roles, in the foreground.

Both stop gracefully on SIGTERM/SIGINT and reconnect by themselves when Redis goes away.
"""

from __future__ import annotations

import asyncio
import signal

import click
import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from service import connections
from service.cli.common import load_settings
from service.logs import configure_logging
from service.observability.fetching import MeteredAsyncFetcher
from service.observability.server import serve_poller
from service.poller import Poller
from service.queue import Enqueuer, task_queues
from service.registry import Registry
from service.settings import Settings
from service.streams import Streams
from service.websub.service import start_websub


def redis_client(settings: Settings) -> redis.Redis:
    """A client that retries briefly on connection errors (longer outages: callers back off)."""
    return connections.redis_client(
        settings.effective_redis_url,
        decode_responses=True,
        socket_connect_timeout=connections.CONNECT_TIMEOUT,
        socket_timeout=15,
        health_check_interval=10,
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries=3),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )


async def run_poller(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client = redis_client(settings)
    endpoint = serve_poller(settings)  # /metrics, /livez, /readyz
    enqueuer = Enqueuer(settings)
    registry = Registry(client, settings)
    websub = start_websub(settings, registry, client)
    async with MeteredAsyncFetcher(settings) as fetcher:
        poller = Poller(
            settings,
            registry,
            Streams(client, settings),
            fetcher,
            enqueuer.enqueue,
            websub=websub.manager if websub else None,
        )
        if websub is None:
            await poller.run(stop)
        else:
            await websub.run_with(poller, stop)
    enqueuer.close()
    client.close()
    if endpoint is not None:
        endpoint.close()


@click.command()
def poller() -> None:
    """Poll the registered feeds and enqueue their new entries (runs until SIGTERM)."""
    settings = load_settings()
    configure_logging(settings, process="poller")
    asyncio.run(run_poller(settings))


@click.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--concurrency",
    "-c",
    type=int,
    default=None,
    help="Worker processes (default NEWSWIRE_WORKER_CONCURRENCY or CPU count).",
)
@click.option(
    "--pool",
    default="prefork",
    show_default=True,
    type=click.Choice(["prefork", "solo", "threads"]),
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(concurrency: int | None, pool: str, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker: fetch, extract, structure, publish (runs until SIGTERM).

    Extra arguments are passed to `celery worker`.
    """
    from workers.main import app, settings

    argv = [
        "worker",
        "--loglevel",
        settings.log_level,
        "-Q",
        ",".join(q.name for q in task_queues(settings)),
        "--pool",
        pool,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if concurrency or settings.worker_concurrency:
        argv += ["--concurrency", str(concurrency or settings.worker_concurrency)]
    app.worker_main([*argv, *celery_args])
