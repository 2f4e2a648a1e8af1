"""`newswire run` on a real terminal (a pseudo-terminal): a live view, no log noise.

The view must show the articles going through; Celery's banner, its superuser warning and
JSON log lines must not reach the terminal (they go to the log files instead).
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.embedded_redis import EmbeddedRedis
from tests.support.origin import Origin
from tests.support.processes import REPO, newswire_env
from tests.support.sitegen import serve_site

pytestmark = pytest.mark.timeout(180)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _read(fd: int, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    return out


def test_run_on_a_terminal_shows_a_live_view(
    redis_server: EmbeddedRedis, origin: Origin, tmp_path: Path
) -> None:
    feed = serve_site(origin, 3)
    feeds_file = tmp_path / "feeds.txt"
    feeds_file.write_text(f"{feed}\n")
    env = newswire_env(redis_server.url, key_prefix="console", data_dir=tmp_path / "data")
    del env["NEWSWIRE_LOG_FORMAT"]  # auto: the terminal decides
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli.entry", "run", "--feeds", str(feeds_file), "-c", "1"],
        env=env,
        cwd=REPO,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
    )
    os.close(follower)
    screen = b""
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and b"3 published" not in screen:
            screen += _read(leader, 1.0)
        os.killpg(proc.pid, signal.SIGINT)
        screen += _read(leader, 30.0)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(leader)
    text = ANSI.sub("", screen.decode(errors="replace"))
    assert "articles   3 published" in text, text[-2000:]
    assert "0 duplicates" in text  # three different stories
    assert "feeds      1 registered" in text
    assert "Ctrl-C to stop" in text
    assert proc.returncode == 0
    # nothing but the view and newswire's own lines on the terminal
    assert "celery@" not in text
    assert "superuser" not in text
    assert '{"' not in text
    logs = tmp_path / "data" / "logs"
    worker_log = (logs / "worker.log").read_text()
    assert "article_done" in worker_log
    assert "poller_started" in (logs / "poller.log").read_text()


def test_status_watch_refreshes_until_interrupted(redis_server: EmbeddedRedis) -> None:
    env = newswire_env(redis_server.url, key_prefix="watch")
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli.entry", "status", "--watch", "--interval", "0.3"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    seen = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and seen.count(b"article tasks queued") < 3:
        select.select([proc.stdout], [], [], 0.2)
        seen += proc.stdout.read() or b""
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    seen += out
    assert seen.count(b"newswire status") >= 3
    assert seen.count(b"dead letters by reason: none") >= 3
    assert proc.returncode == 0
