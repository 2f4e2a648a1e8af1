"""Run the fault-injection suite and tabulate what it measured.

    python -m bench.faults            # the short variants (what CI runs), ~3 min
    python -m bench.faults --long     # also the long ones: 400 articles and six worker kills,
                                      # eight poller kills, 60 s Redis outage, 5,000 pages
    python -m bench.faults --engines  # only the RabbitMQ-broker and Redis-Sentinel faults
                                      # (with --long: 400 articles, SIGKILLed RabbitMQ, ...)

Each test of ``tests/reliability`` appends one row of figures (``record_figures``) to a
JSON Lines file; this script runs pytest with that file set, then prints every row: the
fault, articles expected / on the stream / lost / duplicated, and the fault's own figures
(recovery time, back-off, peak memory...). The last line is the headline: articles lost
and duplicated over every run. Exit status: pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import REPO

COMMON = ("articles_expected", "on_stream", "lost", "duplicates")


ENGINES = ["tests/reliability/test_rabbitmq_faults.py", "tests/reliability/test_sentinel_faults.py"]


def run_suite(long: bool, extra: list[str], paths: list[str]) -> tuple[int, list[dict[str, Any]]]:
    with tempfile.TemporaryDirectory(prefix="newswire-faults-") as tmp:
        figures = Path(tmp) / "figures.jsonl"
        env = {**os.environ, "NEWSWIRE_FAULT_FIGURES": str(figures)}
        if long:
            env["NEWSWIRE_LONG_TESTS"] = "1"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *paths,
            *extra,
        ]
        code = subprocess.run(command, cwd=REPO, env=env, check=False).returncode
        rows = (
            [json.loads(line) for line in figures.read_text().splitlines()]
            if figures.exists()
            else []
        )
    return code, rows


def describe(row: dict[str, Any]) -> str:
    rest = {k: v for k, v in row.items() if k != "fault" and k not in COMMON}
    return ", ".join(f"{k}={json.dumps(v) if isinstance(v, dict) else v}" for k, v in rest.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--long", action="store_true", help="also the long variants")
    parser.add_argument(
        "--engines", action="store_true", help="only the RabbitMQ and Sentinel fault runs"
    )
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest, e.g. -k redis")
    args = parser.parse_args()
    paths = ENGINES if args.engines else ["tests/reliability"]
    code, rows = run_suite(args.long, args.pytest_args, paths)
    print("\n| fault | expected | on stream | lost | duplicates | figures |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        cells = [str(row.get(k, row.get(f"healthy_{k}", "-"))) for k in COMMON]
        print(f"| {row['fault']} | {' | '.join(cells)} | {describe(row)} |")
    lost = sum(int(r.get("lost", 0)) for r in rows)
    dups = sum(int(r.get("duplicates", 0)) for r in rows)
    print(f"\n{len(rows)} fault runs (pytest exit {code}): articles lost {lost}, duplicated {dups}")
    return code or (1 if not rows else 0)


if __name__ == "__main__":
    raise SystemExit(main())
