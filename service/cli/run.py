"""``newswire run``: Redis (embedded when none is configured), a poller and a worker.

On a terminal it shows a live view (``service.console``) and sends the processes' logs to
files under ``NEWSWIRE_DATA_DIR/logs``; elsewhere (a container, a pipe, ``--log-format
json``) the processes log JSON lines to stderr, as ``newswire poller`` / ``worker`` do.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import click

from service.cli.common import connect, load_settings, redis_location, warn
from service.cli.feeds import add_feeds
from service.cli.status import collect_snapshot
from service.console import Header, Snapshot, oldest_within, render
from service.embedded_redis import EmbeddedRedis
from service.errors import IngestError
from service.opml import read_feed_list
from service.registry import Registry
from service.settings import Settings

RATE_WINDOW = 60.0  # seconds of history behind the rate shown


def _start_embedded(settings: Settings) -> EmbeddedRedis:
    data_dir = Path(settings.data_dir).resolve() / "redis"
    port = settings.embedded_redis_port or None
    try:
        server = EmbeddedRedis(data_dir, port=port, appendonly=True).start()
    except IngestError as exc:
        raise click.ClickException(exc.detail) from exc
    warn(f"embedded Redis ({Path(server.binary).name}) on {server.url}, AOF in {data_dir}")
    return server


ROLES = ("poller", "worker")


def _children(
    env: dict[str, str],
    worker_args: list[str],
    settings: Settings,
    logs: Mapping[str, IO[bytes]] | None,
) -> list[subprocess.Popen[bytes]]:
    """The poller and the worker; with metrics on, the poller serves NEWSWIRE_METRICS_PORT
    and the worker the port after it. With ``logs``, each one's output goes to its file."""
    exe = [sys.executable, "-m", "service.cli.entry"]
    worker_env = dict(env)
    if settings.metrics_port:
        worker_env["NEWSWIRE_METRICS_PORT"] = str(settings.metrics_port + 1)
    children = []
    for role, role_env, args in (("poller", env, []), ("worker", worker_env, worker_args)):
        out = logs[role] if logs else None
        children.append(
            subprocess.Popen(  # noqa: S603 - our own entry point
                [*exe, role, *args],
                env=role_env,
                stdin=subprocess.DEVNULL if logs else None,
                stdout=out,
                stderr=subprocess.STDOUT if logs else None,
            )
        )
    return children


def _process_line(children: list[subprocess.Popen[bytes]]) -> str:
    parts = []
    for role, child in zip(ROLES, children, strict=True):
        code = child.poll()
        parts.append(f"{role} running" if code is None else f"{role} EXITED ({code})")
    return " · ".join(parts)


class LiveView:
    """Redraws the console view in place, below whatever was printed before it."""

    def __init__(self, header: Header, look: Callable[[], Snapshot]) -> None:
        self.header = header
        self.look = look
        self.history: list[Snapshot] = []
        self.started = time.time()
        self.drawn = 0

    def draw(self, processes: str) -> None:
        snap = self.look()
        self.history = [*self.history, snap][-120:]
        header = Header(self.header.redis, self.header.logs, processes)
        lines = render(
            header,
            snap,
            oldest_within(self.history, RATE_WINDOW),
            uptime=snap.at - self.started,
        )
        lines.append("Ctrl-C to stop")
        up = f"\x1b[{self.drawn}F" if self.drawn else ""
        sys.stdout.write(up + "\x1b[J" + "\n".join(lines) + "\n")
        sys.stdout.flush()
        self.drawn = len(lines)


def _supervise(children: list[subprocess.Popen[bytes]], view: LiveView | None = None) -> int:
    stopping = False

    def stop(_sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    next_draw = 0.0
    while not stopping and all(c.poll() is None for c in children):
        if view is not None and time.monotonic() >= next_draw:
            view.draw(_process_line(children))
            next_draw = time.monotonic() + 1.0
        time.sleep(0.2)
    if view is not None:
        view.draw(_process_line(children))
        warn("stopping: the poller and the worker finish what they are doing…")
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
@click.option(
    "--log-format",
    type=click.Choice(["auto", "console", "json"]),
    default=None,
    help="console: a live view, logs to files; json: JSON log lines on stderr; "
    "auto (default, NEWSWIRE_LOG_FORMAT): console on a terminal, json otherwise.",
)
def run(feeds_file: Path | None, concurrency: int | None, log_format: str | None) -> None:
    """Everything on one machine: Redis (embedded real server when NEWSWIRE_REDIS_URL is
    unset), a poller and a worker. Ctrl-C stops everything cleanly."""
    settings = load_settings()
    fmt = log_format or settings.log_format
    live = fmt == "console" or (fmt == "auto" and sys.stdout.isatty())
    server = None if settings.redis_url else _start_embedded(settings)
    env = dict(os.environ)
    # The processes log readable lines into their files under the live view, JSON otherwise.
    env["NEWSWIRE_LOG_FORMAT"] = "console" if live else "json"
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
        code = _run_processes(env, worker_args, settings, live=live, embedded=server is not None)
    finally:
        if server is not None:
            server.stop()  # SIGTERM: Redis flushes its AOF and exits cleanly
    raise SystemExit(code)


def _run_processes(
    env: dict[str, str], worker_args: list[str], settings: Settings, *, live: bool, embedded: bool
) -> int:
    if not live:
        return _supervise(_children(env, worker_args, settings, None))
    log_dir = Path(settings.data_dir).resolve() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        logs = {role: stack.enter_context((log_dir / f"{role}.log").open("ab")) for role in ROLES}
        client = connect(settings)
        stack.callback(client.close)
        view = LiveView(
            Header(
                redis=redis_location(settings.effective_redis_url)
                + (" (embedded)" if embedded else ""),
                logs=f"{log_dir}/{{poller,worker}}.log",
            ),
            lambda: collect_snapshot(client, settings, now=time.time()),
        )
        return _supervise(_children(env, worker_args, settings, logs), view)
