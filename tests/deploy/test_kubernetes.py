"""deploy/kubernetes against the Kubernetes OpenAPI schemas (kubernetes-validate's bundled
copies, strict: unknown fields refused, no cluster, no network), KEDA's ScaledObject against
its CRD schema (npm @kubernetes-models/keda), and the rules the manifests must keep."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from service.queue import broker_queue_key
from service.settings import Settings
from tests.deploy.helpers import DEPLOY, METRICS_PORT, load_yaml, load_yaml_all, npm_install

K8S = DEPLOY / "kubernetes"
KUBERNETES_VERSION = "1.30.0"  # oldest supported version the manifests target


def manifests(directory: Path = K8S) -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, doc)
        for path in sorted(directory.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in load_yaml_all(path)
    ]


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _p, doc in manifests() if doc["kind"] == kind}


@pytest.mark.parametrize(
    ("path", "doc"), manifests(), ids=lambda v: v.name if isinstance(v, Path) else v["kind"]
)
def test_manifest_is_valid_kubernetes(path: Path, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_is_not_vacuous() -> None:
    worker = json.loads(json.dumps(by_kind("Deployment")["newswire-worker"]))
    worker["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("directory", [K8S, K8S / "keda"], ids=["base", "keda"])
def test_kustomization_lists_every_manifest(directory: Path) -> None:
    listed = load_yaml(directory / "kustomization.yaml")["resources"]
    present = sorted(p.name for p in directory.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == present


@pytest.mark.parametrize("role", ["poller", "worker"])
def test_role_deployment(role: str) -> None:
    deployment = by_kind("Deployment")[f"newswire-{role}"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == [role]
    assert container["image"] == "newswire"  # pinned by kustomization `images:`
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    websub = {"websub": 8090} if role == "poller" else {}  # the callback: pollers only
    assert ports == {"metrics": METRICS_PORT, **websub}
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert container["startupProbe"]["httpGet"]["path"] == "/livez"
    resources = container["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert "memory" in resources["limits"]
    assert container["envFrom"] == [{"configMapRef": {"name": "newswire"}}]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    pdb = by_kind("PodDisruptionBudget")[f"newswire-{role}"]
    assert pdb["spec"]["selector"]["matchLabels"] == selector


def test_worker_grace_period_outlasts_a_task() -> None:
    pod = by_kind("Deployment")["newswire-worker"]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > Settings().task_time_limit


def test_configmap_holds_valid_settings() -> None:
    data = by_kind("ConfigMap")["newswire"]["data"]
    fields = {f"NEWSWIRE_{name.upper()}" for name in Settings.model_fields}
    assert set(data) <= fields, set(data) - fields
    settings = Settings(**{k.removeprefix("NEWSWIRE_").lower(): v for k, v in data.items()})
    assert settings.metrics_port == METRICS_PORT
    assert settings.redis_url == "redis://redis.newswire.svc:6379/0"


def test_metrics_service_selects_both_roles() -> None:
    service = by_kind("Service")["newswire-metrics"]
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "newswire"}
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics"}
    ]


def test_redis_statefulset_persists_with_aof() -> None:
    redis = by_kind("StatefulSet")["redis"]
    args = redis["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    assert redis["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"


def scaled_object() -> dict[str, Any]:
    doc: dict[str, Any] = load_yaml(K8S / "keda" / "scaledobject.yaml")
    return doc


def test_keda_scales_the_worker_on_the_celery_queue() -> None:
    spec = scaled_object()["spec"]
    assert spec["scaleTargetRef"]["name"] in by_kind("Deployment")
    assert spec["scaleTargetRef"]["name"] == "newswire-worker"
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "redis"
    redis_url = by_kind("ConfigMap")["newswire"]["data"]["NEWSWIRE_REDIS_URL"]
    assert trigger["metadata"]["listName"] == broker_queue_key(Settings(redis_url=redis_url))
    assert redis_url.startswith(f"redis://{trigger['metadata']['address']}/")
    assert spec["minReplicaCount"] >= 1


@pytest.mark.timeout(240)
def test_keda_scaled_object_against_the_crd_schema(tmp_path: Path) -> None:
    """kubernetes-validate has no CRD schemas: @kubernetes-models/keda (generated from KEDA's
    CRDs) validates the ScaledObject instead; a broken copy must be refused."""
    tool = npm_install(Path(__file__).parent / "keda-validate", tmp_path)
    good = scaled_object()
    bad = json.loads(json.dumps(good))
    bad["metadata"]["name"] = "broken"
    bad["spec"]["minReplicaCount"] = "one"
    done = subprocess.run(
        ["node", "validate.mjs"],
        cwd=tool,
        input=json.dumps([good, bad]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ok newswire-worker" in done.stdout, done.stdout + done.stderr
    assert "invalid broken" in done.stdout


def test_websub_service_reaches_the_pollers_callback_port() -> None:
    service = by_kind("Service")["newswire-websub"]
    assert service["spec"]["selector"] == {
        "app.kubernetes.io/name": "newswire",
        "app.kubernetes.io/component": "poller",
    }
    assert service["spec"]["ports"] == [{"name": "websub", "port": 80, "targetPort": "websub"}]
    poller = by_kind("Deployment")["newswire-poller"]["spec"]["template"]["spec"]
    ports = {p["name"]: p["containerPort"] for p in poller["containers"][0]["ports"]}
    assert ports["websub"] == int(Settings().websub_listen.rsplit(":", 1)[1])
