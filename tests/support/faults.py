"""Fault injection helpers: kill process groups and pool children, take Redis away, read
process memory from /proc, count what reached the streams, and record the figures.

Everything here acts on real processes (the ``newswire worker``/``poller`` subprocesses of
``tests.support.processes`` and an ``EmbeddedRedis``); nothing is mocked. Linux only (/proc).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import redis

from service.embedded_redis import EmbeddedRedis

FIGURES_ENV = "NEWSWIRE_FAULT_FIGURES"  # JSON Lines file the figures are appended to


# --- processes ----------------------------------------------------------------------------
def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (e.g. the prefork pool of a Celery worker)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, split after it.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            out.append(int(entry.name))
    return sorted(out)


def socket_owner(local_port: int, candidates: list[int]) -> int | None:
    """Which of the ``candidates`` processes holds the TCP socket bound to ``local_port`` on
    127.0.0.1 (e.g. the pool process whose request an origin handler is answering)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if int(parts[1].rsplit(":", 1)[1], 16) == local_port:
            inodes.add(f"socket:[{parts[9]}]")
    for pid in candidates:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                if os.readlink(fd) in inodes:
                    return pid
    return None


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the whole process group (worker main process and its pool) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def kill_pid(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


# --- Redis ------------------------------------------------------------------------------
@contextlib.contextmanager
def redis_down(server: EmbeddedRedis, *, kill: bool = False) -> Iterator[float]:
    """Redis stopped (SIGTERM: the AOF is flushed; ``kill``: SIGKILL) for the ``with`` body,
    then started again on the same port with the same data directory. Yields the time it
    went down (monotonic)."""
    server.stop(kill=kill)
    down_at = time.monotonic()
    try:
        yield down_at
    finally:
        server.start(timeout=20)


def dedicated_redis(data_dir: Path) -> EmbeddedRedis:
    """A Redis of its own with AOF on (``appendfsync everysec``), as deployed."""
    return EmbeddedRedis(data_dir, appendonly=True)


# --- streams ----------------------------------------------------------------------------
@dataclass
class Tally:
    """What one run left on the article stream, against what was expected."""

    expected: int
    on_stream: int
    unique_ids: int
    duplicates: int
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.on_stream == self.expected == self.unique_ids and not self.unexpected


def tally(client: redis.Redis, stream: str, expected_urls: set[str]) -> Tally:
    """Count the stream's entries by article id and by URL (``data.url``)."""
    entries = client.xrange(stream)
    ids: Counter[str] = Counter()
    urls: set[str] = set()
    for _entry_id, fields in entries:
        values = {_text(k): _text(v) for k, v in fields.items()}
        ids[values["id"]] += 1
        urls.add(json.loads(values["data"])["url"])
    return Tally(
        expected=len(expected_urls),
        on_stream=len(entries),
        unique_ids=len(ids),
        duplicates=sum(n - 1 for n in ids.values()),
        missing=sorted(expected_urls - urls),
        unexpected=sorted(urls - expected_urls),
    )


def dead_letters(client: redis.Redis, stream: str) -> list[dict[str, str]]:
    return [{_text(k): _text(v) for k, v in f.items()} for _i, f in client.xrange(stream)]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --- logs -------------------------------------------------------------------------------
def log_events(path: Path) -> list[dict[str, Any]]:
    """The JSON log lines of a process (other lines, e.g. Celery's banner, skipped)."""
    out = []
    if not path.exists():
        return out
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
    return out


def count_events(path: Path, name: str) -> int:
    return sum(1 for e in log_events(path) if e.get("event") == name)


# --- figures ----------------------------------------------------------------------------
def record_figures(fault: str, **figures: Any) -> dict[str, Any]:
    """Print one fault's measured figures (visible with ``pytest -s``) and append them to
    the JSON Lines file named by ``NEWSWIRE_FAULT_FIGURES`` (read by ``bench/faults.py``)."""
    row = {
        "fault": fault,
        **{k: (asdict(v) if isinstance(v, Tally) else v) for k, v in figures.items()},
    }
    print(f"\nFIGURES {json.dumps(row)}")
    target = os.environ.get(FIGURES_ENV)
    if target:
        with Path(target).open("a") as out:
            out.write(json.dumps(row) + "\n")
    return row


def fault_seed() -> int:
    """The seed of a randomised fault run: ``NEWSWIRE_FAULT_SEED`` to replay a recorded one
    (every run prints its seed in its figures), else a new one."""
    return int(os.environ.get("NEWSWIRE_FAULT_SEED") or time.time_ns() % 10_000)
