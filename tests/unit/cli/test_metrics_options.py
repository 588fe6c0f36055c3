"""Where a long-running command serves /metrics, and what happens when its port is taken."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from quant_cli.metrics_options import DEFAULT_PORTS, start_metrics


def test_default_ports_are_distinct_and_outside_the_api_and_dashboard() -> None:
    ports = list(DEFAULT_PORTS.values())
    assert len(set(ports)) == len(ports) == 5
    assert not {8000, 3000, 3001, 9090} & set(ports)


def test_start_metrics_free_port_serves_and_names_its_url(
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_metrics("probe-cli", "127.0.0.1", 0)
    assert server is not None
    try:
        with urllib.request.urlopen(server.url, timeout=5) as answer:
            names = {f.name for f in text_string_to_metric_families(answer.read().decode())}
    finally:
        server.close()
    assert "quant_service_info" in names
    assert f"probe-cli metrics on {server.url}" in capsys.readouterr().err


def test_start_metrics_port_taken_logs_and_lets_the_service_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        assert start_metrics("probe-cli", "127.0.0.1", taken) is None
    captured = capsys.readouterr()  # stdout or stderr, as structlog is configured at the time
    assert "metrics_unavailable" in captured.out + captured.err
