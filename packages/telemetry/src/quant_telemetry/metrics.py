"""Every quant_ metric the platform exports, defined once so dashboards and tests share one list."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

# Instruments are updated where the event happens (an order acknowledged, a request answered).
# They live in prometheus_client's default registry; under PROMETHEUS_MULTIPROC_DIR each process
# writes them to its own file and the scrape handler aggregates (see quant_telemetry.exposition).

ORDERS_SUBMITTED = Counter(
    "quant_orders_submitted",
    "Orders handed to a broker, by broker and strategy.",
    ["broker", "strategy"],
)
ORDERS_REJECTED = Counter(
    "quant_orders_rejected",
    "Orders refused (by the broker or before leaving), by broker and reason.",
    ["broker", "reason"],
)
RISK_DENIALS = Counter(
    "quant_risk_denials",
    "Orders the pre-trade risk gate denied, by rule; counted after the check, never inside it.",
    ["rule"],
)
# the broker round trip is milliseconds to seconds; default buckets would miss the tail above 10 s
ORDER_ACK_LATENCY = Histogram(
    "quant_order_ack_latency_seconds",
    "Seconds from handing an order to the broker until its first report (accepted, filled, "
    "rejected), by broker (sim, alpaca, ib).",
    ["broker"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RUN_DURATION = Histogram(
    "quant_run_duration_seconds",
    "Wall-clock seconds of a queued run (backtest, walk-forward), by kind and outcome.",
    ["kind", "status"],
    buckets=(0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0),
)
HTTP_REQUEST_DURATION = Histogram(
    "quant_http_request_duration_seconds",
    "API request latency by method, route template (never the raw path) and status code.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SERVICE_INFO = Gauge(
    "quant_service_info",
    "1 for every running service process, labelled with its name and version.",
    ["service", "version"],
    multiprocess_mode="livemax",
)
SERVICE_HEARTBEAT = Gauge(
    "quant_service_heartbeat_timestamp_seconds",
    "Unix time of the service's last heartbeat from its main loop.",
    ["service"],
    multiprocess_mode="livemax",
)


@dataclass(frozen=True, slots=True)
class GaugeSpec:
    """A gauge read from live state at scrape time by a collector (see quant_telemetry.collectors).

    Reading at scrape time keeps these off the order path: nothing is updated per bar or per order.
    """

    name: str
    documentation: str
    labels: tuple[str, ...] = ()


BROKER_CONNECTED = GaugeSpec(
    "quant_broker_connected", "1 while the broker session is connected, else 0.", ("broker",)
)
RECONCILIATION_STATE = GaugeSpec(
    "quant_reconciliation_state",
    "Reconciliation gate per account: 0 clean, 1 blocked (no entries leave while blocked).",
    ("account",),
)
KILL_SWITCH_MODE = GaugeSpec(
    "quant_kill_switch_mode",
    "Kill-switch mode as a code: 0 active, 1 halt_entries, 2 reduce_only, 3 flatten_and_halt.",
)
STREAM_LAG = GaugeSpec(
    "quant_stream_lag_entries",
    "Entries of a stream not yet delivered to a consumer group (XINFO GROUPS lag).",
    ("stream", "group"),
)
STREAM_PENDING = GaugeSpec(
    "quant_stream_pending_entries",
    "Entries delivered to a consumer group but not acknowledged (XINFO GROUPS pending).",
    ("stream", "group"),
)
LAST_BAR_AGE = GaugeSpec(
    "quant_last_bar_age_seconds",
    "Seconds since the data service last published a bar of the symbol (grows while stalled).",
    ("symbol",),
)
EQUITY = GaugeSpec("quant_equity", "Marked equity of a strategy's book.", ("strategy",))
DAILY_PNL = GaugeSpec(
    "quant_daily_pnl_ratio",
    "Profit or loss of the current session as a fraction of equity at the session's open.",
    ("strategy",),
)
DRAWDOWN = GaugeSpec(
    "quant_drawdown_ratio",
    "Peak-to-trough drawdown of a strategy's equity as a fraction of the peak (0 at a peak).",
    ("strategy",),
)
JOB_QUEUE_DEPTH = GaugeSpec(
    "quant_job_queue_depth",
    "Jobs in the run queue by entrypoint and status (queued, picked).",
    ("entrypoint", "status"),
)

KILL_SWITCH_CODES: dict[str, int] = {
    "active": 0,
    "halt_entries": 1,
    "reduce_only": 2,
    "flatten_and_halt": 3,
}

INSTRUMENTS: tuple[Counter | Gauge | Histogram, ...] = (
    ORDERS_SUBMITTED,
    ORDERS_REJECTED,
    RISK_DENIALS,
    ORDER_ACK_LATENCY,
    RUN_DURATION,
    HTTP_REQUEST_DURATION,
    SERVICE_INFO,
    SERVICE_HEARTBEAT,
)
SCRAPED: tuple[GaugeSpec, ...] = (
    BROKER_CONNECTED,
    RECONCILIATION_STATE,
    KILL_SWITCH_MODE,
    STREAM_LAG,
    STREAM_PENDING,
    LAST_BAR_AGE,
    EQUITY,
    DAILY_PNL,
    DRAWDOWN,
    JOB_QUEUE_DEPTH,
)


def family_names() -> frozenset[str]:
    """Every metric family name defined here (counters without the `_total` sample suffix)."""
    described = [family.name for metric in INSTRUMENTS for family in metric.describe()]
    return frozenset(described + [spec.name for spec in SCRAPED])


def sample_names() -> frozenset[str]:
    """Every series name a query may use: families plus their _total/_bucket/_sum/_count."""
    names: set[str] = set()
    for family in (family for metric in INSTRUMENTS for family in metric.describe()):
        name = family.name
        if family.type == "counter":
            names.update({name, f"{name}_total"})
        elif family.type == "histogram":
            names.update({name, f"{name}_bucket", f"{name}_sum", f"{name}_count"})
        else:
            names.add(name)
    names.update(spec.name for spec in SCRAPED)
    return frozenset(names)
