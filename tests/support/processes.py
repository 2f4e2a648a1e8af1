"""Run newswire roles as real subprocesses, the way an operator does."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def newswire_env(redis_url: str, **overrides: object) -> dict[str, str]:
    """Environment for a child process: the test Redis, loopback allowed, short limits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    env.update(
        {
            "NEWSWIRE_REDIS_URL": redis_url,
            "NEWSWIRE_ALLOWED_NETWORKS": "127.0.0.0/8",
            "NEWSWIRE_FETCH_TIMEOUT": "5",
            "NEWSWIRE_CONNECT_TIMEOUT": "2",
            "NEWSWIRE_RETRY_BACKOFF": "0.2",
            "NEWSWIRE_POLL_INTERVAL_MIN": "1",
            "NEWSWIRE_POLL_INTERVAL_DEFAULT": "2",
            "NEWSWIRE_POLL_TICK": "0.2",
            "NEWSWIRE_MIN_TEXT_CHARS": "50",
            "NEWSWIRE_LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({f"NEWSWIRE_{k.upper()}": str(v) for k, v in overrides.items()})
    return env


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "service.cli.entry", *args],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    return int(proc.returncode)


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = spawn(args, env, log)
    try:
        yield proc
    finally:
        stop(proc)


def wait_for(
    predicate: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.1,
    message: str = "condition",
) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
