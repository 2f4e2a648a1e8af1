"""The benchmark suite still runs (smoke mode: tiny inputs, no timing assertions).

``python -m bench.all --smoke`` starts every benchmark's real parts (redis-server, the local
origin, worker and poller subprocesses) on a few pages and feeds; each must exit 0 and
print its table and a last headline line.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bench.all import SUITE
from tests.conftest import REPO, corpus_dir

pytestmark = pytest.mark.timeout(240)


def test_every_benchmark_runs_and_prints_its_table() -> None:
    corpus_dir("pages")
    proc = subprocess.run(
        [sys.executable, "-m", "bench.all", "--smoke"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=230,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:] + proc.stderr[-2000:]
    sections = re.split(r"^## ", out, flags=re.MULTILINE)
    for module, _full, smoke in SUITE:
        if smoke is None:  # a full-run-only benchmark (bench.peers, bench.memory)
            assert f"## {module} (" not in out
            continue
        section = next((s for s in sections if s.startswith(f"{module} (")), None)
        assert section is not None, f"{module} did not report\n{out[-3000:]}"
        assert "| --- |" in section, f"{module} printed no table"
        assert f"- {module}: " in out
    assert "FAILED" not in out
