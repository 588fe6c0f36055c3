"""Telemetry every service shares: the quant_ metrics, their /metrics endpoint, structured logs."""

from prometheus_client.registry import Collector

from quant_telemetry.collectors import LastBarAges, ScrapedGauge, on_loop
from quant_telemetry.exposition import (
    MetricsServer,
    build_registry,
    metrics_asgi_app,
    multiprocess_dir,
    release_process,
    serve_metrics,
)
from quant_telemetry.heartbeat import beat, keep_beating, mark_started
from quant_telemetry.logs import add_secrets, configure_logging, log_context, reset_logging
from quant_telemetry.redaction import SecretRedactor, is_secret_name, secrets_of

__all__ = [
    "Collector",
    "LastBarAges",
    "MetricsServer",
    "ScrapedGauge",
    "SecretRedactor",
    "add_secrets",
    "beat",
    "build_registry",
    "configure_logging",
    "is_secret_name",
    "keep_beating",
    "log_context",
    "mark_started",
    "metrics_asgi_app",
    "multiprocess_dir",
    "on_loop",
    "release_process",
    "reset_logging",
    "secrets_of",
    "serve_metrics",
]
