"""The CLI as a user runs it never prints the password of its Redis URL."""

from __future__ import annotations

import subprocess
import sys

from tests.support.processes import REPO, newswire_env


def test_unreachable_redis_error_masks_the_password() -> None:
    env = newswire_env("redis://app:hunter2@127.0.0.1:1/0")
    done = subprocess.run(
        [sys.executable, "-m", "service.cli.entry", "status"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "cannot reach Redis at redis://app:****@127.0.0.1:1/0" in done.stderr
    assert "hunter2" not in done.stdout + done.stderr
