"""``newswire run``: Redis (embedded when none is configured), a poller and a worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from service.cli.common import connect, load_settings, warn
from service.cli.feeds import add_feeds
from service.embedded_redis import EmbeddedRedis
from service.errors import IngestError
from service.opml import read_feed_list
from service.registry import Registry
from service.settings import Settings


def _start_embedded(settings: Settings) -> EmbeddedRedis:
    data_dir = Path(settings.data_dir).resolve() / "redis"
    port = settings.embedded_redis_port or None
    server = EmbeddedRedis(data_dir, port=port, appendonly=True).start()
    warn(f"embedded Redis ({Path(server.binary).name}) on {server.url}, AOF in {data_dir}")
    return server


def _children(
    env: dict[str, str], worker_args: list[str], settings: Settings
) -> list[subprocess.Popen[bytes]]:
    """The poller and the worker; with metrics on, the poller serves NEWSWIRE_METRICS_PORT
    and the worker the port after it."""
    exe = [sys.executable, "-m", "service.cli.entry"]
    worker_env = dict(env)
    if settings.metrics_port:
        worker_env["NEWSWIRE_METRICS_PORT"] = str(settings.metrics_port + 1)
    return [
        subprocess.Popen([*exe, "poller"], env=env),  # noqa: S603 - our own entry point
        subprocess.Popen([*exe, "worker", *worker_args], env=worker_env),  # noqa: S603
    ]


def _supervise(children: list[subprocess.Popen[bytes]]) -> int:
    stopping = False

    def stop(_sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(c.poll() is None for c in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return 0 if stopping else 1


@click.command()
@click.option(
    "--feeds",
    "feeds_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="OPML file, or a text file with one feed URL per line, to register first.",
)
@click.option("--concurrency", "-c", type=int, default=None, help="Worker processes.")
def run(feeds_file: Path | None, concurrency: int | None) -> None:
    """Everything on one machine: Redis (embedded real server when NEWSWIRE_REDIS_URL is
    unset), a poller and a worker. Ctrl-C stops everything cleanly."""
    settings = load_settings()
    server = None if settings.redis_url else _start_embedded(settings)
    env = dict(os.environ)
    if server is not None:
        env["NEWSWIRE_REDIS_URL"] = server.url
        settings = settings.model_copy(update={"redis_url": server.url})
    try:
        if feeds_file is not None:
            try:
                entries = read_feed_list(feeds_file.read_bytes())
            except IngestError as exc:
                raise click.ClickException(f"{feeds_file}: {exc}") from exc
            added, known = add_feeds(Registry(connect(settings), settings), entries)
            warn(f"feeds: added {added}, already registered {known}")
        worker_args = ["-c", str(concurrency)] if concurrency else []
        code = _supervise(_children(env, worker_args, settings))
    finally:
        if server is not None:
            server.stop()  # SIGTERM: Redis flushes its AOF and exits cleanly
    raise SystemExit(code)
