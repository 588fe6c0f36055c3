"""docker-compose.yml, Prometheus' scrape config and the Grafana dashboard agree with the code:
every Python service runs a real `quant` command, every long-running one is scraped at its
metrics port, and the dashboard queries only quant_ metrics that quant_telemetry defines."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import typer
import yaml

from quant_cli.main import COMMANDS
from quant_cli.metrics_options import DEFAULT_PORTS
from quant_telemetry.metrics import family_names, sample_names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
PROMETHEUS = yaml.safe_load((ROOT / "docker/prometheus/prometheus.yml").read_text())
DASHBOARD = json.loads((ROOT / "docker/grafana/dashboards/quant.json").read_text())
METRIC = re.compile(r"\bquant_[a-z0-9_]+\b")

PENDING: dict[tuple[str, str], str] = {}
"""Commands compose runs whose code has not landed yet (none now). Once one is registered, the
test below fails until its line here is removed."""

SCRAPED = {  # compose service -> Prometheus job (the data service's job scrapes `replay`)
    "api": "api",
    "worker": "worker",
    "replay": "data",
    "execution": "execution",
    "risk": "risk",
    "monitoring": "monitoring",
}


def _python_services() -> dict[str, list[str]]:
    image = SERVICES["api"]["image"]
    return {
        name: [str(part) for part in spec["command"]]
        for name, spec in SERVICES.items()
        if spec.get("image") == image and "command" in spec
    }


def _subcommands(app: typer.Typer) -> set[str]:
    names = {
        info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")
        for info in app.registered_commands
    }
    return names | {g.name for g in app.registered_groups if g.name}


def _resolves(command: list[str]) -> bool:
    entry = next((e for e in COMMANDS if e.name == command[0]), None)
    if entry is None:
        return False
    module, attribute = entry.target.split(":")
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        return len(command) > 1 and command[1] in _subcommands(target)
    return True


def test_compose_python_services_each_run_a_registered_quant_command() -> None:
    commands = _python_services()
    assert {"api", "worker", "execution", "risk", "monitoring", "replay"} <= set(commands)
    unresolved = {name: command[:2] for name, command in commands.items() if not _resolves(command)}
    assert {tuple(c) for c in unresolved.values()} == set(PENDING), unresolved


def test_compose_publishes_prometheus_and_grafana_on_loopback_by_default() -> None:
    for name in ("prometheus", "grafana", "api"):
        (port,) = SERVICES[name]["ports"]
        assert port.startswith("${")
        assert ":-127.0.0.1}" in port
    mounts = SERVICES["grafana"]["volumes"]
    assert "./docker/grafana/dashboards:/var/lib/grafana/dashboards:ro" in mounts
    assert (
        "./docker/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
        in (SERVICES["prometheus"]["volumes"])
    )


def _targets(job: dict[str, Any]) -> set[str]:
    found = {t for c in job.get("static_configs", []) for t in c["targets"]}
    for dns in job.get("dns_sd_configs", []):
        found |= {f"{name}:{dns['port']}" for name in dns["names"]}
    return found


def test_prometheus_scrapes_every_long_running_service_at_its_metrics_port() -> None:
    jobs = {job["job_name"]: job for job in PROMETHEUS["scrape_configs"]}
    assert set(jobs) == set(SCRAPED.values())
    ports = {**DEFAULT_PORTS, "api": 8000, "replay": DEFAULT_PORTS["data"]}
    for service, job in SCRAPED.items():
        assert service in SERVICES
        assert _targets(jobs[job]) == {f"{service}:{ports[service]}"}, job


def _expressions() -> list[str]:
    return [target["expr"] for panel in DASHBOARD["panels"] for target in panel.get("targets", [])]


def test_grafana_dashboard_queries_only_metrics_quant_telemetry_defines() -> None:
    used = {name for expr in _expressions() for name in METRIC.findall(expr)}
    assert used, "the dashboard queries no quant_ metric"
    assert sorted(used - sample_names()) == []


def test_grafana_dashboard_shows_every_defined_metric() -> None:
    text = " ".join(_expressions())
    missing = sorted(
        name
        for name in family_names()
        if not re.search(rf"\b{name}(_total|_bucket|_count|_sum)?\b", text)
    )
    assert missing == []


def test_grafana_dashboard_uses_the_provisioned_data_source() -> None:
    provisioned = yaml.safe_load(
        (ROOT / "docker/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    (source,) = provisioned["datasources"]
    uids = {
        target["datasource"]["uid"]
        for panel in DASHBOARD["panels"]
        for target in panel.get("targets", [])
    }
    assert uids == {source["uid"]}
    assert source["url"] == "http://prometheus:9090"
