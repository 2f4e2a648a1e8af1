"""Run the benchmark suite: each benchmark in its own process, then every headline together.

    python -m bench.all [--smoke] [--only NAME ...]

``--smoke`` runs each benchmark on a tiny input, two at a time: it checks that they still
work (CI), and its figures mean nothing. A full run runs one benchmark at a time.
Exit status 1 when a benchmark failed or printed no headline.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import REPO

# (module, extra arguments of a full run, of a smoke run or None: not in a smoke run)
SUITE: list[tuple[str, list[str], list[str] | None]] = [
    ("bench.pipeline", [], ["--smoke"]),
    ("bench.scaling", [], ["--smoke"]),
    ("bench.poller", [], ["--smoke"]),
    ("bench.poll_stages", [], ["--feeds", "30"]),
    ("bench.freshness", [], ["--smoke"]),
    ("bench.websub", [], ["--smoke"]),
    ("bench.sitemaps", [], ["--smoke"]),
    ("bench.footprint", [], ["--smoke"]),
    ("bench.quality", ["--repeat", "1"], ["--limit", "3", "--repeat", "1"]),
    # full runs only (None: left out of --smoke, which CI runs within a few minutes)
    ("bench.peers", [], None),
    ("bench.memory", [], None),
    ("bench.hostile", [], ["--smoke"]),
]


def run_one(module: str, args: list[str]) -> tuple[int, str, float]:
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        check=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc.returncode, proc.stdout, time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny inputs: check they run")
    parser.add_argument("--only", nargs="*", default=None, help="module names, e.g. poller")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="benchmarks run at once (default: 1; 2 with --smoke, whose "
        "figures mean nothing anyway)",
    )
    args = parser.parse_args()
    jobs = args.jobs or (2 if args.smoke else 1)
    chosen = [
        (module, smoke if args.smoke else full)
        for module, full, smoke in SUITE
        if (not args.only or module.split(".")[1] in args.only)
        and not (args.smoke and smoke is None)
    ]
    headlines, failed = [], []
    with ThreadPoolExecutor(jobs) as pool:
        runs = [pool.submit(run_one, module, extra) for module, extra in chosen]
        for (module, _extra), future in zip(chosen, runs, strict=True):
            code, output, seconds = future.result()
            print(f"## {module} ({seconds:.0f} s)\n\n{output.rstrip()}\n", flush=True)
            last = output.rstrip().splitlines()[-1] if output.strip() else ""
            if code != 0 or not last:
                failed.append(f"{module}: exit {code}")
            headlines.append(f"- {module}: {last}")
    print("## Headlines\n\n" + "\n".join(headlines))
    if failed:
        print("\nFAILED: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
