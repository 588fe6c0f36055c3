"""Every service's /metrics parses with prometheus_client's parser and carries its quant_ metrics:
the API through its app, the worker, data and execution services through their own servers on
real PostgreSQL and Valkey; the services' JSON logs carry their context and never a secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import asyncpg
import pytest
import redis
import structlog
from fastapi.testclient import TestClient
from pgqueuer import AsyncpgDriver, Queries
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_api.app import create_app
from quant_backtest.queue_depth import queue_depth
from quant_bus.redis_bus import RedisBus
from quant_bus.streams import BARS_CLOSED, dead_letter_stream
from quant_db.jobs import RUN_ENTRYPOINT
from quant_db.schema.runs import Mode
from quant_db.urls import asyncpg_dsn
from quant_domain import OrderStatus
from quant_execution.gauges import execution_collectors
from quant_execution.service import ExecutionService
from quant_ingestion.bar_stream import publish_replay
from quant_marketdata import SampleSource
from quant_telemetry import LastBarAges, ScrapedGauge, configure_logging, on_loop, serve_metrics
from quant_telemetry.metrics import JOB_QUEUE_DEPTH
from tests.integration.api.conftest import make_settings
from tests.integration.test_execution_service import (
    FEED,
    momentum,
    register,
    set_mode,
    until,
    with_service,
)

Scraped = dict[str, list[Sample]]

EVERYWHERE = {
    "quant_service_info",
    "quant_service_heartbeat_timestamp_seconds",
    "quant_orders_submitted",
    "quant_orders_rejected",
    "quant_risk_denials",
    "quant_order_ack_latency_seconds",
    "quant_run_duration_seconds",
    "quant_http_request_duration_seconds",
}
"""Instruments: every process exports them (empty until used)."""


def parse(text: str) -> Scraped:
    return {f.name: list(f.samples) for f in text_string_to_metric_families(text)}


def scrape(url: str) -> Scraped:
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.status == 200
        return parse(answer.read().decode())


def values(samples: list[Sample], *labels: str, suffix: str = "") -> dict[tuple[str, ...], float]:
    """Sample values keyed by the named labels' values (the parser sorts labels by name)."""
    return {
        tuple(s.labels[name] for name in labels): s.value
        for s in samples
        if s.name.endswith(suffix) and "le" not in s.labels
    }


@pytest.fixture
def service_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A service's event loop in a thread, as `quant worker` runs one, for on_loop readers."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()


def test_api_metrics_parse_with_latency_by_route_and_logs_carry_the_request_id(
    tmp_path: Path, database_url: str, redis_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path)
    secret = settings.jwt_secret.get_secret_value()  # type: ignore[union-attr]
    with TestClient(create_app(settings, database_url=database_url, redis_url=redis_url)) as api:
        before = parse(api.get("/metrics").text)
        capfd.readouterr()
        login = api.post("/v1/auth/login", json={"username": "nobody", "password": secret})
        found = parse(api.get("/metrics").text)
    assert login.status_code == 401
    assert set(found) >= EVERYWHERE
    key = ("POST", "/v1/auth/login", "401")
    counts = [
        values(
            scraped["quant_http_request_duration_seconds"],
            "method",
            "route",
            "status",
            suffix="_count",
        ).get(key, 0.0)
        for scraped in (before, found)
    ]
    assert counts[1] - counts[0] == 1.0  # the histogram is the process's: earlier tests count
    assert ("api",) in values(found["quant_service_info"], "service")
    logged = capfd.readouterr().err
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    request = next(line for line in lines if line.get("route") == "/v1/auth/login")
    assert request["service"] == "api"
    assert len(request["request_id"]) == 32
    assert secret not in logged


def test_worker_metrics_report_the_run_queue_depth_from_postgresql(
    database_url: str, service_loop: asyncio.AbstractEventLoop
) -> None:
    async def enqueue() -> None:
        connection = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            await Queries(AsyncpgDriver(connection)).enqueue(
                [RUN_ENTRYPOINT] * 2, [uuid.uuid4().bytes, uuid.uuid4().bytes], [0, 0]
            )
        finally:
            await connection.close()

    asyncio.run(enqueue())
    depth = ScrapedGauge(JOB_QUEUE_DEPTH, on_loop(service_loop, partial(queue_depth, database_url)))
    server = serve_metrics("worker", port=0, collectors=[depth])
    try:
        found = scrape(server.url)
    finally:
        server.close()
    assert EVERYWHERE | {"quant_job_queue_depth"} <= set(found)
    assert values(found["quant_job_queue_depth"], "entrypoint", "status") == {
        ("run", "queued"): 2.0,
        ("run", "picked"): 0.0,
    }


@pytest.fixture
def clean_bars(redis_url: str) -> Iterator[str]:
    client = redis.Redis.from_url(redis_url)
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    yield redis_url
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    client.close()


def test_data_metrics_report_the_age_of_each_published_symbol(clean_bars: str) -> None:
    frames = {
        s: SampleSource().get_bars(s).loc["2016-01-04":"2016-01-08"] for s in ("SP500", "NASDAQ")
    }
    ages = LastBarAges()

    async def replay() -> int:
        bus = RedisBus.from_url(clean_bars)
        try:
            return await publish_replay(bus, frames, source="replay:metrics", ages=ages)
        finally:
            await bus.close()

    assert asyncio.run(replay()) == 5
    server = serve_metrics("data", port=0, collectors=[ages])
    try:
        found = scrape(server.url)
    finally:
        server.close()
    assert EVERYWHERE | {"quant_last_bar_age_seconds"} <= set(found)
    published = values(found["quant_last_bar_age_seconds"], "symbol")
    assert set(published) == {("SP500",), ("NASDAQ",)}
    assert all(0.0 <= age < 60.0 for age in published.values())


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The service's log pipeline (quant_telemetry.configure_logging) into a buffer."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    configure_logging("execution", stream=stream, own_root=True)
    yield stream
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_execution_metrics_report_orders_books_gates_and_consumer_groups(
    database_url: str, clean_bars: str, json_lines: io.StringIO
) -> None:
    config = momentum()
    # momentum_v1's crossover is long: from 2017 its position opens within the first bars
    frames = {"SP500": SampleSource().get_bars("SP500").loc["2017-01-01":"2017-03-31"]}

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession], bus: RedisBus
    ) -> tuple[Scraped, str, float, float, int]:
        await register(sessions, config, Mode.PAPER)
        await until(lambda: config.id in service.trading)
        trading = service.trading[config.id]
        steps = await publish_replay(bus, frames, source=FEED)
        await until(lambda: trading.runner.processed == steps)
        client = redis.asyncio.Redis.from_url(clean_bars, decode_responses=True)
        loop = asyncio.get_running_loop()
        collectors = execution_collectors(service, service.step_metrics, sessions, client, loop)
        server = serve_metrics("execution", port=0, collectors=collectors)
        try:
            # the scrape's Redis and PostgreSQL reads run on this loop: it must stay free
            found = await asyncio.to_thread(scrape, server.url)
        finally:
            server.close()
            await client.aclose()
        # independent figures from the session itself
        curve = trading.session.result().equity
        capital = float(trading.session.config.initial_capital)
        records = trading.session.loop.orders
        assert not [o for o in records if o.status is OrderStatus.REJECTED]  # none to tell apart
        await set_mode(sessions, config.id, Mode.BACKTEST)
        await until(lambda: config.id not in service.trading)
        group = f"paper-{trading.run_id}"
        return found, group, float(curve[-1]), max(float(curve.max()), capital), len(records)

    # the counter lives in the process's registry: earlier tests may have counted orders too
    counted = {"broker": "paper", "strategy": config.id}
    before = REGISTRY.get_sample_value("quant_orders_submitted_total", counted) or 0.0
    found, group, equity, peak, orders = with_service(database_url, clean_bars, scenario)
    assert orders >= 1
    expected = {
        "quant_equity",
        "quant_daily_pnl_ratio",
        "quant_drawdown_ratio",
        "quant_reconciliation_state",
        "quant_kill_switch_mode",
        "quant_broker_connected",
        "quant_stream_lag_entries",
        "quant_stream_pending_entries",
    }
    assert EVERYWHERE | expected <= set(found)
    assert values(found["quant_equity"], "strategy")[(config.id,)] == pytest.approx(equity)
    drawdown = values(found["quant_drawdown_ratio"], "strategy")[(config.id,)]
    assert drawdown == pytest.approx(1 - equity / peak)
    assert (config.id,) in values(found["quant_daily_pnl_ratio"], "strategy")
    assert values(found["quant_reconciliation_state"], "account") == {("paper",): 0.0}
    assert values(found["quant_kill_switch_mode"]) == {(): 0.0}
    submitted = values(found["quant_orders_submitted"], "broker", "strategy", suffix="_total")
    assert submitted[("paper", config.id)] - before == orders
    lag = values(found["quant_stream_lag_entries"], "stream", "group")
    assert lag[(BARS_CLOSED, group)] == 0.0  # the runner has read every published bar
    pending = values(found["quant_stream_pending_entries"], "stream", "group")
    assert pending[(BARS_CLOSED, group)] == 0.0  # ... and acknowledged it
    assert values(found["quant_broker_connected"], "broker") == {}  # paper: no link to watch
    # the runner's lines name the strategy and the run it belongs to
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    warmed = next(line for line in lines if "warmed up" in line["event"])
    assert (warmed["service"], warmed["strategy_id"]) == ("execution", config.id)
    assert group == f"paper-{warmed['run_id']}"
