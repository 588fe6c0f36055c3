"""Where a long-running command serves /metrics: its --metrics-host/--metrics-port options and
the one call that starts the server (ADR 0039)."""

# ruff: noqa: PLC0415 - prometheus_client loads when a service starts, not for --help
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import structlog
import typer

if TYPE_CHECKING:
    from quant_telemetry import Collector, MetricsServer

PORT_HELP = "port of this service's /metrics (0: any free port, printed at start)"

MetricsHostOption = Annotated[
    str,
    typer.Option(
        envvar="QUANT_METRICS_HOST",
        help="interface /metrics listens on (0.0.0.0 for a Prometheus on another host)",
    ),
]
WorkerMetricsPort = Annotated[
    int, typer.Option(envvar="QUANT_WORKER_METRICS_PORT", min=0, max=65535, help=PORT_HELP)
]
DataMetricsPort = Annotated[
    int, typer.Option(envvar="QUANT_DATA_METRICS_PORT", min=0, max=65535, help=PORT_HELP)
]
ExecutionMetricsPort = Annotated[
    int, typer.Option(envvar="QUANT_EXECUTION_METRICS_PORT", min=0, max=65535, help=PORT_HELP)
]
RiskMetricsPort = Annotated[
    int, typer.Option(envvar="QUANT_RISK_METRICS_PORT", min=0, max=65535, help=PORT_HELP)
]
MonitoringMetricsPort = Annotated[
    int, typer.Option(envvar="QUANT_MONITORING_METRICS_PORT", min=0, max=65535, help=PORT_HELP)
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORTS = {"worker": 9101, "data": 9102, "execution": 9103, "risk": 9104, "monitoring": 9105}
"""One port per service, so all of them fit on one machine (docker/prometheus/prometheus.yml)."""


def start_metrics(
    service: str, host: str, port: int, collectors: Iterable[Collector] = ()
) -> MetricsServer | None:
    """Serve `service`'s /metrics; when the port is taken, say so and carry on without it.

    A service's work (orders, runs, bars) never waits on its metrics: Prometheus shows the
    missing target as down, and the log line says why.
    """
    from quant_telemetry import serve_metrics

    try:
        server = serve_metrics(service, port=port, host=host, collectors=collectors)
    except OSError as exc:
        structlog.get_logger("quant.telemetry").warning(
            "metrics_unavailable", service=service, host=host, port=port, error=str(exc)
        )
        return None
    typer.echo(f"{service} metrics on {server.url}", err=True)
    return server
