"""Scaling out: one worker process against two on this 2-core machine, and a 1,000-article queue.

    python -m bench.scaling [--tasks N] [--backlog M] [--smoke]

Corpus pages are served by the local origin, each under many distinct URLs (so every task is
a distinct article: the page's own canonical link points at another site and is ignored).
``newswire worker --pool prefork -c 1`` and then ``-c 2`` each drain ``N`` queued tasks
(enqueued through the real producer, timed from the first enqueue to the queue drained with
every task acknowledged); then ``-c 2`` drains a backlog of ``M`` (default 1,000) and the
throughput of each quarter of that backlog (from the stream's entry times) shows whether it
holds. Worker memory (PSS of parent + pool processes) is sampled every 2 s and once after
each run (a reading costs CPU on the cores the workers share).

End to end against the library: bare ``trafilatura.bare_extraction`` (defaults) in two
processes over the same pages, as many as the ``-c 2`` run's tasks, once before the workers
run and once after (the mean is used); the ratio is the ``-c 2`` run's articles/s ÷ that
(the two workers share the 2 cores with Redis, the origin and the enqueuing bench).
Last, ``-c 3`` drains ``N`` on the same 2 cores: a third process runs while the others wait
on the fetch, Redis and the parent's hand-off (what an operator can choose).
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import redis
import trafilatura

from bench.common import (
    FastOrigin,
    Page,
    Role,
    bench_env,
    drained,
    load_pages,
    machine_ticks,
    mib,
    redis_server,
    table,
    wait_until,
    worker,
)
from service.queue import Enqueuer
from service.settings import Settings


class RssSampler:
    """Samples a process tree's memory (PSS) every ``every`` seconds in a thread; ``peak`` in
    bytes. One reading walks the processes' page tables: 15 ms of this process's CPU for a
    250 MB process, so at 0.2 s it took a tenth of a core from the workers it measured."""

    def __init__(self, role: Role, every: float = 2.0) -> None:
        self.role, self.peak, self.last, self.every = role, 0, 0, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.last = self.role.rss()
            self.peak = max(self.peak, self.last)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def drain(
    client: redis.Redis, enqueuer: Enqueuer, urls: list[str], role: Role, stream: str
) -> dict[str, Any]:
    since = int(time.time() * 1000)
    cpu0, start, ticks0 = role.cpu(), time.time(), machine_ticks()
    for url in urls:
        enqueuer.enqueue(url, "http://127.0.0.1/feed.xml", None)
    end = wait_until(
        lambda: drained(client), timeout=120 + len(urls), what="queue drained", interval=0.05
    )
    busy, total = (b - a for a, b in zip(ticks0, machine_ticks(), strict=True))
    times = [
        int(i.decode().split("-")[0]) / 1000 for i, _f in client.xrange(stream, min=f"{since}-0")
    ]
    return {
        "n": len(urls),
        "seconds": end - start,
        "cpu": role.cpu() - cpu0,
        "times": times,
        "start": start,
        "busy": busy / max(total, 1),
    }


_BARE_PAGES: list[Page] = []  # inherited by the forked processes of bare_two_processes


def _bare(index: int) -> None:
    page = _BARE_PAGES[index % len(_BARE_PAGES)]
    trafilatura.bare_extraction(page.html, url=page.url)


def bare_two_processes(pages: list[Page], n: int) -> float:
    """Pages per second of bare trafilatura (defaults) in two processes, over ``n`` pages."""
    _BARE_PAGES[:] = pages
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_bare, range(4))  # warm-up: imports in each process
        start = time.perf_counter()
        pool.map(_bare, range(n), chunksize=4)
        return n / (time.perf_counter() - start)


def quarters(result: dict[str, Any]) -> list[float]:
    """Articles per second in each quarter of the published entries."""
    times, out = sorted(result["times"]), []
    if len(times) < 8:
        return out
    size = len(times) // 4
    previous = result["start"]
    for q in range(4):
        chunk = times[q * size : (q + 1) * size]
        out.append(len(chunk) / max(chunk[-1] - previous, 1e-6))
        previous = chunk[-1]
    return out


def run(*, tasks: int, backlog: int) -> str:
    pages = load_pages()
    log_dir = Path(tempfile.mkdtemp(prefix="nw-bench-scaling-"))
    rows: list[list[object]] = []
    results: dict[str, dict[str, Any]] = {}
    bare = [bare_two_processes(pages, tasks)]
    with redis_server() as server, FastOrigin(hosts=1) as origin:
        env = bench_env(server.url)
        settings = Settings(redis_url=server.url)
        client = redis.Redis.from_url(server.url)
        enqueuer = Enqueuer(settings)

        def urls(key: str, n: int) -> list[str]:
            return [f"{origin.base()}/page/{key}{i}/{pages[i % len(pages)].name}" for i in range(n)]

        plan = [(1, [("c1", tasks)]), (2, [("c2", tasks), ("big", backlog)]), (3, [("c3", tasks)])]
        for concurrency, runs in plan:
            with worker(env, concurrency, log_dir) as role:
                sampler = RssSampler(role)
                drain(
                    client,
                    enqueuer,
                    urls(f"warm{concurrency}-", 2 * concurrency),
                    role,
                    settings.articles_stream,
                )
                for key, n in runs:
                    results[key] = drain(
                        client, enqueuer, urls(f"{key}-", n), role, settings.articles_stream
                    )
                    results[key]["rss"] = max(sampler.peak, role.rss())  # after the timing
                sampler.close()
        enqueuer.close()
        client.close()
    bare.append(bare_two_processes(pages, tasks))
    for key, label in (
        ("c1", "1 worker process (-c 1)"),
        ("c2", "2 worker processes (-c 2)"),
        ("big", f"2 processes, backlog of {backlog}"),
        ("c3", "3 worker processes (-c 3) on the 2 cores"),
    ):
        r = results[key]
        rate = r["n"] / r["seconds"]
        rows.append(
            [
                label,
                r["n"],
                rate,
                rate / (results["c1"]["n"] / results["c1"]["seconds"]),
                1000 * r["cpu"] / r["n"],
                f"{100 * r['busy']:.0f} %",
                mib(r["rss"]),
            ]
        )
    quarter = quarters(results["big"])
    rows.append(
        [
            f"  backlog of {backlog}, per quarter (articles/s)",
            " / ".join(f"{q:.1f}" for q in quarter),
            "",
            "",
            "",
            "",
            "",
        ]
    )
    ratio = (results["c2"]["n"] / results["c2"]["seconds"]) / (
        results["c1"]["n"] / results["c1"]["seconds"]
    )
    held = (min(quarter) / max(quarter)) if quarter else 0.0
    c2_rate = results["c2"]["n"] / results["c2"]["seconds"]
    c3_rate = results["c3"]["n"] / results["c3"]["seconds"]
    return table(
        "Scaling: worker processes on 2 cores (corpus pages, distinct URLs)",
        [
            "run",
            "tasks",
            "articles/s",
            "vs 1 process",
            "worker CPU ms/task",
            "machine busy",
            "peak PSS MiB",
        ],
        rows,
        f"slowest ÷ fastest quarter of the backlog: {held:.2f}",
    ) + (
        f"\nbare trafilatura (defaults) in 2 processes, same pages: "
        f"{' / '.join(f'{rate:.1f}' for rate in bare)} pages/s (before / after the workers); "
        f"2 worker processes ÷ that: {c2_rate / (sum(bare) / len(bare)):.2f} (target ≥ 0.90); "
        f"3 worker processes on the 2 cores ÷ that: {c3_rate / (sum(bare) / len(bare)):.2f}"
        f"\nHEADLINE 2 worker processes ÷ 1, articles/s: {ratio:.2f} (2 cores; ideal 2.0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=240)
    parser.add_argument("--backlog", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true", help="6 tasks, backlog of 8")
    args = parser.parse_args()
    if args.smoke:
        args.tasks, args.backlog = 6, 8
    print(run(tasks=args.tasks, backlog=args.backlog), flush=True)


if __name__ == "__main__":
    main()
