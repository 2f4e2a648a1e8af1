"""docker-compose.yml against the Compose Specification schema (check-jsonschema's vendored
copy, no network) and the operational rules it must keep."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.settings import Settings
from tests.deploy.helpers import COMPOSE_FILE, METRICS_PORT, REPO, compose

ROLES = ("poller", "worker")


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_valid_against_the_compose_specification() -> None:
    done = validate(COMPOSE_FILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_validator_rejects_an_invalid_file(tmp_path: Path) -> None:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    data["services"]["worker"]["depends_on"]["redis"]["condition"] = "service_ready"
    data["services"]["poller"]["restart"] = 3
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(yaml.safe_dump(data))
    done = validate(bad)
    assert done.returncode != 0
    assert "service_ready" in done.stdout + done.stderr


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    data: dict[str, Any] = compose()["services"]
    return data


def test_redis_keeps_its_data(services: dict[str, Any]) -> None:
    redis = services["redis"]
    assert redis["image"].startswith("redis:7")
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert any(v.startswith("redis-data:/data") for v in redis["volumes"])
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "redis-data" in compose()["volumes"]


@pytest.mark.parametrize("role", ROLES)
def test_roles_wait_for_redis_and_report_health(services: dict[str, Any], role: str) -> None:
    service = services[role]
    assert service["command"] == [role]
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert service["healthcheck"]["test"] == [
        "CMD",
        "python",
        "-m",
        "service.observability.probe",
        "readyz",
    ]
    assert service["environment"]["NEWSWIRE_METRICS_PORT"] == str(METRICS_PORT)
    assert service["environment"]["NEWSWIRE_REDIS_URL"] == "redis://redis:6379/0"
    assert {"path": ".env", "required": False} in service["env_file"]
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"


def test_worker_scales(services: dict[str, Any]) -> None:
    """`--scale worker=4` needs no fixed container name and no published host port."""
    worker = services["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["stop_grace_period"] == "120s"  # > task hard time limit (90 s)


def test_optional_services_sit_behind_profiles(services: dict[str, Any]) -> None:
    assert services["flower"]["profiles"] == ["flower"]
    assert services["prometheus"]["profiles"] == ["monitoring"]
    assert services["grafana"]["profiles"] == ["monitoring"]
    for name in ("redis", "poller", "worker"):
        assert "profiles" not in services[name]
    for volume in services["prometheus"]["volumes"] + services["grafana"]["volumes"]:
        source = volume.split(":", 1)[0]
        if source.startswith("./"):
            assert (REPO / source).is_dir(), f"{source} is mounted but missing"


def test_env_example_sets_only_real_settings() -> None:
    """Every NEWSWIRE_* name in .env.example and compose is a field of Settings."""
    fields = {f"NEWSWIRE_{name.upper()}" for name in Settings.model_fields}
    names = set()
    for line in (REPO / ".env.example").read_text().splitlines():
        text = line.lstrip("# ").strip()
        if text.startswith("NEWSWIRE_") and "=" in text:
            names.add(text.split("=", 1)[0])
    for role in ROLES:
        names |= {k for k in compose()["services"][role]["environment"] if k != "NEWSWIRE_IMAGE"}
    compose_only = {"NEWSWIRE_IMAGE", "NEWSWIRE_WEBSUB_BIND"}  # read by docker-compose.yml
    assert names - compose_only <= fields, names - fields - compose_only
    assert fields <= names  # and every setting is there to be changed


def test_rabbitmq_profile_is_the_broker_on_demand(services: dict[str, Any]) -> None:
    """`--profile rabbitmq` adds RabbitMQ; without it the roles start on Redis alone."""
    rabbitmq = services["rabbitmq"]
    assert rabbitmq["profiles"] == ["rabbitmq"]
    assert any(v.startswith("rabbitmq-data:/var/lib/rabbitmq") for v in rabbitmq["volumes"])
    assert rabbitmq["healthcheck"]["test"][:2] == ["CMD", "rabbitmq-diagnostics"]
    for role in ROLES:
        dependency = services[role]["depends_on"]["rabbitmq"]
        assert dependency == {"condition": "service_healthy", "required": False}
        assert services[role]["environment"]["NEWSWIRE_BROKER_URL"] == ""  # unset: Redis
    assert Settings(broker_url="").broker_kind == "redis"


def test_the_poller_publishes_its_websub_callback_on_loopback(services: dict[str, Any]) -> None:
    """The callback port a reverse proxy leads to, on the host's loopback unless opened."""
    assert services["poller"]["ports"] == ["127.0.0.1:8090:8090"]
    opened = compose({"NEWSWIRE_WEBSUB_BIND": "0.0.0.0:8443"})["services"]["poller"]
    assert opened["ports"] == ["0.0.0.0:8443:8090"]
    assert Settings().websub_listen.endswith(":8090")  # what the container listens on
