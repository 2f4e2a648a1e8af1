"""The Prometheus configuration, alert rules and Grafana dashboard: well-formed, every PromQL
expression parses (promql-parser), and they only use metrics newswire exports."""

from __future__ import annotations

import json
import re
from typing import Any

import promql_parser
import pytest

from tests.deploy.helpers import DEPLOY, METRICS_PORT, load_yaml

PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "newswire.json"
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
# Every metric newswire exports (the topology test checks each against real scrapes).
EXPORTED = {
    "newswire_polls_total",
    "newswire_feed_entries_discovered_total",
    "newswire_feed_entries_enqueued_total",
    "newswire_fetch_duration_seconds",
    "newswire_fetch_bytes_total",
    "newswire_extraction_duration_seconds",
    "newswire_tasks_total",
    "newswire_task_duration_seconds",
    "newswire_articles_published_total",
    "newswire_dead_letters_total",
    "newswire_stream_length",
    "newswire_consumer_group_lag",
    "newswire_consumer_group_pending",
    "newswire_consumer_group_trimmed_before_read",
    "newswire_queue_depth",
    "newswire_feeds",
    "newswire_feeds_overdue",
    "newswire_redis_up",
    "newswire_redis_used_memory_bytes",
    "newswire_build_info",
}


def metric_names(expr: str) -> set[str]:
    names = set(re.findall(r"\bnewswire_[a-z_]+", expr))
    return {re.sub(r"_(bucket|count|sum)$", "", n) if "seconds" in n else n for n in names}


def alert_rules() -> list[dict[str, Any]]:
    return [r for g in load_yaml(PROMETHEUS / "alerts.yml")["groups"] for r in g["rules"]]


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p.get("targets", [])]


@pytest.mark.parametrize("name", ["prometheus.yml", "prometheus-kubernetes.yml"])
def test_scrape_configs(name: str) -> None:
    config = load_yaml(PROMETHEUS / name)
    assert config["rule_files"] == ["alerts.yml"]
    jobs = config["scrape_configs"]
    assert jobs
    assert all(j["job_name"].startswith("newswire") for j in jobs)
    if name == "prometheus.yml":
        targets = {j["job_name"]: j["dns_sd_configs"][0] for j in jobs}
        assert {t["names"][0] for t in targets.values()} == {"poller", "worker"}
        assert {t["port"] for t in targets.values()} == {METRICS_PORT}


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_alert_rules_parse_and_use_exported_metrics(rule: dict[str, Any]) -> None:
    promql_parser.parse(rule["expr"])
    assert metric_names(rule["expr"]) <= EXPORTED
    assert rule["labels"]["severity"] in {"critical", "warning", "info"}
    assert rule["annotations"]["summary"]


def test_the_parser_is_not_vacuous() -> None:
    with pytest.raises(ValueError, match="parenthesis"):
        promql_parser.parse("sum by (reason (rate(newswire_polls_total[5m]))")


def test_dashboard() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "newswire"
    exprs = dashboard_exprs()
    assert len(exprs) >= 20
    for expr in exprs:
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        promql_parser.parse(expr)
    used = set().union(*(metric_names(e) for e in exprs))
    assert used == EXPORTED - {"newswire_build_info"}  # every metric has a panel
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
