"""Shared by the deployment tests: paths, YAML loading, compose interpolation, npm installs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = REPO / "docker-compose.yml"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
METRICS_PORT = 9108
_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::?-(?P<default>[^}]*))?\}")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_yaml_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ``${VAR}`` / ``${VAR:-default}`` substitution, recursively."""
    if isinstance(value, str):
        return _INTERPOLATION.sub(lambda m: env.get(m["name"]) or (m["default"] or ""), value)
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    return value


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as Compose sees it: anchors merged, variables substituted."""
    data: dict[str, Any] = interpolate(load_yaml(COMPOSE_FILE), env or {})
    return data


def npm_install(package_dir: Path, work: Path, *, timeout: float = 180) -> Path:
    """Copy ``package_dir`` to ``work`` and ``npm ci`` it there (npm cache inside ``work``).

    Skips when node/npm are absent; fails with npm's own output when the install fails or
    takes longer than ``timeout`` (no network to the registry, say), never hangs.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed (CI has node 20): Node.js checks skipped")
    target = work / package_dir.name
    shutil.copytree(package_dir, target, ignore=shutil.ignore_patterns("node_modules"))
    env = {
        **os.environ,
        "npm_config_cache": str(work / "npm-cache"),
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
        "npm_config_fetch_retries": "1",
        "npm_config_fetch_timeout": "60000",
    }
    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    if not (target / "package-lock.json").exists():
        command[1] = "install"
    try:
        done = subprocess.run(
            command,
            cwd=target,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"`npm ci` in {package_dir.name} took over {timeout:.0f}s: is the npm "
            "registry reachable?"
        )
    if done.returncode != 0:
        pytest.fail(
            f"`npm ci` in {package_dir.name} failed ({done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return target
