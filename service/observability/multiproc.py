"""The Prometheus multiprocess directory of a prefork worker, kept bounded.

prometheus_client writes one file per process and metric type (``counter_<pid>.db``,
``histogram_<pid>.db``, ...) and reads them all at every scrape. A Celery pool replaces its
children (``NEWSWIRE_WORKER_MAX_TASKS_PER_CHILD``, the memory cap, a hard time limit), so
without care the directory gains files for ever and scrapes slow down.

When a child exits, its counter, histogram and summary values are added to one archive
file per type (``counter_archive.db``, ...) and its files are deleted; files of any other
process that is gone (killed without running the exit hook) are folded in the same way.
The directory then holds the files of the live children plus one archive per type. Folding
and scraping take the same lock (``.archive.lock``), so a scrape never sees a value in both
the archive and a child's file, nor in neither (counters never go backwards). Live gauges
of a dead process are removed as prometheus_client's ``mark_process_dead`` does; the worker
has no other gauges.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ARCHIVED_TYPES = ("counter", "histogram", "summary")
ARCHIVE = "archive"
LOCK_NAME = ".archive.lock"


@contextmanager
def archive_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on the directory's archive (processes of one machine)."""
    with (path / LOCK_NAME).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _file_pid(file: Path) -> tuple[str, int] | None:
    """``(type, pid)`` of a per-process counter/histogram/summary file."""
    typ, _, rest = file.stem.partition("_")
    if typ not in ARCHIVED_TYPES or not rest.isdigit():
        return None
    return typ, int(rest)


def fold_dead(
    path: Path, *, exiting: int | None = None, alive: Callable[[int], bool] = pid_alive
) -> int:
    """Fold the files of ``exiting`` and of every process that is gone into the archives;
    returns how many files were folded."""
    from prometheus_client.mmap_dict import MmapedDict

    folded = 0
    with archive_lock(path):
        for file in sorted(path.glob("*.db")):
            found = _file_pid(file)
            if found is None or (found[1] != exiting and alive(found[1])):
                continue
            archive = MmapedDict(str(path / f"{found[0]}_{ARCHIVE}.db"))  # type: ignore[no-untyped-call]
            try:
                for key, value, _ts, _pos in MmapedDict.read_all_values_from_file(str(file)):  # type: ignore[no-untyped-call]
                    old, _old_ts = archive.read_value(key)  # type: ignore[no-untyped-call]
                    archive.write_value(key, old + value, 0.0)  # type: ignore[no-untyped-call]
            finally:
                archive.close()  # type: ignore[no-untyped-call]
            file.unlink()
            folded += 1
        _drop_dead_live_gauges(path, exiting, alive)
    return folded


def _drop_dead_live_gauges(path: Path, exiting: int | None, alive: Callable[[int], bool]) -> None:
    for file in path.glob("gauge_live*_*.db"):
        pid = file.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and (int(pid) == exiting or not alive(int(pid))):
            file.unlink(missing_ok=True)


def locked_collector(registry: Any, path: Path) -> Any:
    """prometheus_client's MultiProcessCollector, reading under the archive lock."""
    from prometheus_client.multiprocess import MultiProcessCollector

    class LockedCollector(MultiProcessCollector):
        def collect(self) -> Any:
            with archive_lock(path):
                return list(super().collect())  # type: ignore[no-untyped-call]

    return LockedCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
