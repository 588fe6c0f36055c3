"""The metric definitions, scrape-time collectors and both /metrics endpoints."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from quant_telemetry import (
    LastBarAges,
    ScrapedGauge,
    build_registry,
    metrics_asgi_app,
    on_loop,
    serve_metrics,
)
from quant_telemetry.metrics import (
    EQUITY,
    KILL_SWITCH_MODE,
    ORDERS_REJECTED,
    STREAM_LAG,
    family_names,
    sample_names,
)


def families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    return {
        family.name: [(dict(s.labels), s.value) for s in family.samples]
        for family in text_string_to_metric_families(text)
    }


def test_metric_names_every_definition_has_the_quant_prefix_and_base_units() -> None:
    names = family_names()
    assert len(names) == 18
    assert all(name.startswith("quant_") for name in names)
    assert "quant_order_ack_latency_seconds" in names
    assert {"quant_orders_submitted_total", "quant_order_ack_latency_seconds_bucket"} <= (
        sample_names()
    )
    assert "quant_orders_submitted_total" not in names


def test_scraped_gauge_reading_becomes_labelled_samples() -> None:
    registry = build_registry(
        [ScrapedGauge(STREAM_LAG, lambda: {("bar.closed", "execution"): 3, ("fill", "risk"): 0})]
    )
    found = families(generate_latest(registry).decode())
    assert sorted(found["quant_stream_lag_entries"], key=lambda s: s[1]) == [
        ({"stream": "fill", "group": "risk"}, 0.0),
        ({"stream": "bar.closed", "group": "execution"}, 3.0),
    ]


def test_scraped_gauge_failing_source_keeps_the_family_without_samples() -> None:
    def broken() -> dict[tuple[str, ...], float]:
        raise ConnectionError("redis down")

    registry = build_registry([ScrapedGauge(EQUITY, broken), ScrapedGauge(KILL_SWITCH_MODE, dict)])
    found = families(generate_latest(registry).decode())
    assert found["quant_equity"] == []
    assert "quant_kill_switch_mode" in found


def test_last_bar_ages_age_is_computed_at_scrape_time_from_the_newest_bar() -> None:
    now = [1_000_000.0]
    ages = LastBarAges(clock=lambda: now[0])
    ages.mark("AAPL", datetime.fromtimestamp(999_940.0, tz=UTC))
    ages.mark("AAPL", 999_000.0)  # an older bar replayed late does not make the symbol look stale
    ages.mark("MSFT", 999_990.0)
    now[0] += 5
    found = families(generate_latest(build_registry([ages])).decode())
    assert sorted(found["quant_last_bar_age_seconds"], key=lambda s: s[1]) == [
        ({"symbol": "MSFT"}, 15.0),
        ({"symbol": "AAPL"}, 65.0),
    ]


def test_serve_metrics_port_zero_serves_parsable_text_with_the_service_marked_up() -> None:
    ORDERS_REJECTED.labels(broker="paper", reason="risk_denied").inc()
    server = serve_metrics("probe", port=0)
    try:
        assert server.port > 0
        with urllib.request.urlopen(server.url, timeout=5) as answer:
            found = families(answer.read().decode())
    finally:
        server.close()
    assert ({"service": "probe", "version": "0.1.0"}, 1.0) in found["quant_service_info"]
    assert any(
        labels["service"] == "probe"
        for labels, _ in found["quant_service_heartbeat_timestamp_seconds"]
    )
    rejected = {labels["reason"]: value for labels, value in found["quant_orders_rejected"]}
    assert rejected["risk_denied"] >= 1.0


def test_metrics_asgi_app_get_answers_prometheus_text() -> None:
    app = metrics_asgi_app([ScrapedGauge(KILL_SWITCH_MODE, lambda: {(): 2.0})])

    async def scrape() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/")

    response = asyncio.run(scrape())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert families(response.text)["quant_kill_switch_mode"] == [({}, 2.0)]


@pytest.fixture
def loop_in_thread() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    # let a cancelled reader's task finish cancelling before the loop stops
    asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01), loop).result(timeout=5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()


def test_on_loop_reader_runs_the_coroutine_on_the_service_loop(
    loop_in_thread: asyncio.AbstractEventLoop,
) -> None:
    async def lag() -> dict[tuple[str, ...], float]:
        assert asyncio.get_running_loop() is loop_in_thread
        return {("bar.closed", "g"): 7.0}

    assert on_loop(loop_in_thread, lag)() == {("bar.closed", "g"): 7.0}


def test_on_loop_reader_slow_source_times_out(loop_in_thread: asyncio.AbstractEventLoop) -> None:
    async def slow() -> int:
        await asyncio.sleep(5)
        return 1

    with pytest.raises(TimeoutError):
        on_loop(loop_in_thread, slow, timeout=0.05)()


WORKER = """
import sys
from quant_telemetry.metrics import ORDERS_SUBMITTED, SERVICE_INFO
ORDERS_SUBMITTED.labels(broker="paper", strategy="s1").inc(int(sys.argv[1]))
SERVICE_INFO.labels(service="api", version="x").set(1)
"""
SCRAPE = """
from prometheus_client import generate_latest
from quant_telemetry import build_registry
print(generate_latest(build_registry()).decode())
"""


def test_build_registry_multiprocess_dir_sums_counters_of_every_process(tmp_path: Path) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for amount in ("2", "5"):
        subprocess.run([sys.executable, "-c", WORKER, amount], env=env, check=True, timeout=60)
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE], env=env, check=True, timeout=60, capture_output=True
    )
    found = families(scraped.stdout.decode())
    assert found["quant_orders_submitted"] == [({"broker": "paper", "strategy": "s1"}, 7.0)]
