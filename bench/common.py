"""What the benchmarks share: the corpus, the real parts they start, process accounting, tables.

Every benchmark starts and stops its own parts: a private redis-server (``EmbeddedRedis``, no
persistence), the fast local origin (``bench.origin``, its own process), and ``newswire
worker`` / ``newswire poller`` subprocesses. The machines are shared and noisy, so each
benchmark reports ratios of things measured side by side in the same run; absolute figures
are printed for context only.
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from service.embedded_redis import EmbeddedRedis, free_port
from service.queue import broker_queue_key, broker_unacked_key
from service.settings import Settings
from tests.support.corpus import corpus_root
from tests.support.processes import newswire_env, spawn, stop

REPO = Path(__file__).resolve().parent.parent
CORPUS = corpus_root()
PAGES = CORPUS / "pages"
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# --- the corpus ------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    name: str  # file name without .html.gz
    url: str  # where it was crawled
    html: bytes


def load_pages(limit: int | None = None) -> list[Page]:
    """The corpus pages (``tests/data/corpus/pages``), sorted by name, the first ``limit``."""
    files = sorted(PAGES.glob("*.html.gz"))
    if not files:
        raise SystemExit(f"no corpus pages in {PAGES} (set NEWSWIRE_CORPUS)")
    out = []
    for path in files[:limit]:
        name = path.name.removesuffix(".html.gz")
        meta = json.loads(path.with_name(f"{name}.json").read_text())
        out.append(
            Page(
                name,
                str(meta.get("url") or f"https://example.com/{name}"),
                gzip.decompress(path.read_bytes()),
            )
        )
    return out


# --- processes: CPU and memory from /proc ----------------------------------------------
def _stat(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # fields from 3 (state) on


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += parents.get(current, [])
    return out


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of every core since boot (``/proc/stat``); busy is all but
    idle and iowait. Two readings give the share of the machine in use between them."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])  # user … steal; guest time is already counted in user
    return total - idle, total


def cpu_seconds(pid: int) -> float:
    """CPU time of a process tree: live processes, plus children already reaped."""
    total = 0.0
    for i, each in enumerate(descendants(pid)):
        try:
            fields = _stat(each)
        except OSError:
            continue
        # utime, stime (fields 14, 15); reaped children's cutime, cstime (16, 17) of the root
        used = int(fields[11]) + int(fields[12])
        if i == 0:
            used += int(fields[13]) + int(fields[14])
        total += used / CLOCK_TICK
    return total


def rss_bytes(pid: int) -> int:
    """Memory of a process tree: the sum of its processes' PSS (shared pages split among
    the processes sharing them, so forked pool processes are not counted twice)."""
    total = 0
    for each in descendants(pid):
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except (OSError, ValueError, IndexError):
            total += rss_of(each)
    return total


def rss_of(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


# --- the parts ---------------------------------------------------------------------------
@contextmanager
def redis_server() -> Iterator[EmbeddedRedis]:
    """A private redis-server for one benchmark (no persistence, like the test suite)."""
    with EmbeddedRedis(
        Path(tempfile.mkdtemp(prefix="nw-bench-redis-")), appendonly=False
    ) as server:
        yield server


class FastOrigin:
    """``bench.origin`` in a subprocess: ``with FastOrigin(hosts=64) as origin:``."""

    def __init__(self, *, hosts: int = 1, corpus: Path | None = PAGES, **extra: object) -> None:
        self.hosts = hosts
        self.port = free_port()
        args = [
            sys.executable,
            "-m",
            "bench.origin",
            "--port",
            str(self.port),
            "--hosts",
            str(hosts),
        ]
        if corpus is not None:
            args += ["--corpus", str(corpus)]
        for name, value in extra.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        self.args = args
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> FastOrigin:
        self.process = subprocess.Popen(self.args, cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit("bench.origin did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def base(self, host: int = 0) -> str:
        return f"http://127.0.0.{host % self.hosts + 1}:{self.port}"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base()}/_stats", timeout=10) as resp:
            return dict(json.loads(resp.read()))


def bench_env(redis_url: str, **overrides: object) -> dict[str, str]:
    """A child's environment: the bench Redis, loopback allowed, INFO logs (as deployed)."""
    return newswire_env(redis_url, log_level="INFO", **overrides)


class Role:
    """A ``newswire worker`` or ``newswire poller`` subprocess, stopped on exit."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.proc = spawn(args, env, log)
        self.log = log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def rss(self) -> int:
        return rss_bytes(self.proc.pid)

    def close(self) -> None:
        stop(self.proc)

    def __enter__(self) -> Role:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def worker(env: dict[str, str], concurrency: int, log_dir: Path) -> Role:
    return Role(
        ["worker", "--pool", "prefork", "-c", str(concurrency)],
        env,
        log_dir / f"worker-c{concurrency}.log",
    )


def drained(client: redis.Redis) -> bool:
    """No task queued and none taken but unacknowledged (acks_late: finished)."""
    pipe = client.pipeline()
    defaults = Settings(redis_url="redis://127.0.0.1:6379/0")  # the benches' key prefix
    pipe.llen(broker_queue_key(defaults) or "")
    pipe.hlen(broker_unacked_key(defaults))
    queued, unacked = pipe.execute()
    return int(queued) == 0 and int(unacked) == 0


def wait_until(
    predicate: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.01
) -> float:
    """Poll until true; returns the time it became true (``time.time()``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return time.time()


def stream_span(client: redis.Redis, stream: str, since_ms: int) -> tuple[int, float]:
    """Entries added to ``stream`` since ``since_ms`` and the time of the last one (s)."""
    entries = client.xrange(stream, min=f"{since_ms}-0")
    if not entries:
        return 0, since_ms / 1000
    last = entries[-1][0]
    last_id = last.decode() if isinstance(last, bytes) else str(last)
    return len(entries), int(last_id.split("-")[0]) / 1000


# --- output ------------------------------------------------------------------------------
def table(
    title: str, header: Sequence[str], rows: Sequence[Sequence[object]], headline: str
) -> str:
    """A Markdown table under a title; its last line is the headline ratio."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
        return str(value)

    lines = [
        f"### {title}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(" --- " if i == 0 else " ---: " for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    lines += ["", headline]
    return "\n".join(lines)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def mib(nbytes: float) -> float:
    return nbytes / (1024 * 1024)


# --- profiles ----------------------------------------------------------------------------
class Spy:
    """``py-spy record`` of one process while the block runs (``pip install py-spy``; root
    or ptrace rights). ``top()`` lists functions by inclusive share of the samples."""

    def __init__(self, pid: int, out: Path, *, rate: int = 100, idle: bool = False) -> None:
        self.pid, self.out, self.rate, self.idle = pid, out, rate, idle
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Spy:
        args = [
            "py-spy",
            "record",
            "-r",
            str(self.rate),
            "-f",
            "raw",
            "-o",
            str(self.out),
            "-p",
            str(self.pid),
            *(["--idle"] if self.idle else []),
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.send_signal(2)
            self.process.wait(timeout=30)

    def top(self, n: int = 25, *, skip: Sequence[str] = ()) -> str:
        """Functions by inclusive share of samples (``skip``: substrings of frames to omit)."""
        inclusive: dict[str, int] = {}
        total = 0
        for line in self.out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            total += int(count)
            for frame in set(stack.split(";")):
                inclusive[frame] = inclusive.get(frame, 0) + int(count)
        ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])
        lines = [
            f"{100 * c / max(total, 1):5.1f} %  {f}"
            for f, c in ranked
            if not any(s in f for s in skip)
        ]
        return "\n".join(lines[:n])


class Timers:
    """CPU seconds and calls per stage. ``clock``: ``time.process_time`` (the default: the
    whole process, for a pass that runs in one thread) or ``time.thread_time`` (the thread a
    stage runs in, when stages run in several). ``wrap``/``wrap_async`` time the calls of an
    attribute of a module or a class (a function, a method, a classmethod) while the block
    runs; a name the code no longer has is not split out."""

    def __init__(self, clock: Callable[[], float] = time.process_time) -> None:
        self.clock = clock
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        start = self.clock()
        try:
            yield
        finally:
            self.seconds[stage] += self.clock() - start
            self.calls[stage] += 1

    @contextmanager
    def wrap(self, owner: Any, name: str, stage: str) -> Iterator[None]:
        stored = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
        if stored is None:
            yield
            return
        function = stored.__func__ if isinstance(stored, classmethod) else stored

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.time(stage):
                return function(*args, **kwargs)

        setattr(owner, name, classmethod(timed) if isinstance(stored, classmethod) else timed)
        try:
            yield
        finally:
            setattr(owner, name, stored)

    @contextmanager
    def wrap_async(self, owner: Any, name: str, stage: str) -> Iterator[None]:
        """The same for a coroutine function; its time is the awaiting thread's clock
        across the awaits: meaningful when nothing else runs on the loop meanwhile."""
        stored = getattr(owner, name)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            with self.time(stage):
                return await stored(*args, **kwargs)

        setattr(owner, name, timed)
        try:
            yield
        finally:
            setattr(owner, name, stored)
