"""A run's charts: statistics from the full stored series (as the HTML report computes them), an
equity read whose plan does not hinge on fresh statistics, and the statement timeout's 503."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from quant_api.app import create_app
from quant_api.routers.v1.analytics import BENCHMARK_METRIC
from quant_api.run_analytics import rolling_window
from quant_api.run_series import EQUITY_DOWNSAMPLED
from quant_backtest.job_loop import serve
from quant_backtest.persist import BENCHMARK_METRIC as STORED_BENCHMARK_METRIC
from quant_backtest.report_html import _rolling_window
from quant_db.jobs import create_run
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus
from quant_db.urls import asyncpg_dsn
from quant_engine import BacktestConfig
from quant_engine.metrics import drawdown_series, monthly_returns
from quant_strategy import load_strategy_config
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import Person, Seeder, days

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"
DEMO_STRATEGIES = ("momentum_v1", "buy_and_hold")  # what `quant up --demo` queues


@pytest.fixture
def viewer(seed: Seeder) -> Person:
    return seed.user("viewer", Role.VIEWER)


async def _queue_demo_runs(url: str) -> dict[str, uuid.UUID]:
    """The demo backtests, queued as `quant up --demo` queues them."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    runs = {}
    try:
        for name in DEMO_STRATEGIES:
            config = load_strategy_config(CONFIGS / f"{name}.yaml")
            dump = config.model_dump(mode="json", by_alias=True)
            await connection.execute(
                "INSERT INTO strategies (id, class_path, config, status, mode) "
                "VALUES ($1, $2, $3, 'active', 'BACKTEST') ON CONFLICT (id) DO NOTHING",
                config.id,
                config.class_path,
                json.dumps(dump),
            )
            runs[name] = await create_run(
                connection,
                strategy_id=config.id,
                run_type="backtest",
                config=dump,
                backtest_config=BacktestConfig().model_dump(mode="json"),
            )
    finally:
        await connection.close()
    return runs


def report_traces(html: str) -> list[dict[str, Any]]:
    """Every trace of every plotly figure in a report page."""
    decoder = json.JSONDecoder()
    traces = []
    for match in re.finditer(r'Plotly\.newPlot\(\s*"chart-\d+",\s*', html):
        data, _ = decoder.raw_decode(html, match.end())
        traces.extend(data)
    return traces


def plotly_values(values: Any) -> list[float]:
    """A trace's numbers: plain JSON, or plotly's base64 typed array."""
    if isinstance(values, dict):
        raw = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        return [float(v) for v in raw]
    return [float(v) for v in values]


def report_monthly_cells(html: str) -> dict[tuple[int, int], str]:
    """(year, month) -> the report's heatmap text ("-16.9%"), empty cells left out."""
    heatmap = next(t for t in report_traces(html) if t.get("type") == "heatmap")
    return {
        (int(year), month + 1): text
        for year, row in zip(heatmap["y"], heatmap["text"], strict=True)
        for month, text in enumerate(row)
        if text
    }


def report_line(html: str, name: str) -> dict[str, float]:
    trace = next(t for t in report_traces(html) if t.get("name") == name)
    return dict(zip(trace["x"], plotly_values(trace["y"]), strict=True))


def as_report_text(value: float) -> str:
    """A monthly return as the report prints it (and the dashboard's heatmap does)."""
    return f"{value * 100.0:.1f}%"


def test_the_benchmark_is_stored_and_read_under_one_name() -> None:
    assert BENCHMARK_METRIC == STORED_BENCHMARK_METRIC


@pytest.mark.parametrize("n_points", [0, 1, 7, 500, 504, 5031, 100_000])
def test_the_rolling_window_is_the_html_reports(n_points: int) -> None:
    assert rolling_window(n_points) == _rolling_window(n_points)


def test_demo_runs_monthly_returns_equal_the_html_reports_cell_by_cell(
    client: TestClient, viewer: Person, database_url: str
) -> None:
    runs = asyncio.run(_queue_demo_runs(database_url))
    asyncio.run(serve(database_url, drain=True))
    for name, run_id in runs.items():
        run = client.get(f"/v1/runs/{run_id}", headers=viewer.headers).json()
        assert run["status"] == "completed", (name, run["error"])
        html = client.get(f"/v1/runs/{run_id}/report", headers=viewer.headers).text
        response = client.get(f"/v1/runs/{run_id}/analytics?points=1000", headers=viewer.headers)
        assert response.status_code == 200, response.text
        body = response.json()

        served = {
            (row["year"], month + 1): as_report_text(value)
            for row in body["monthly_returns"]
            for month, value in enumerate(row["months"])
            if value is not None
        }
        expected = report_monthly_cells(html)
        assert len(expected) > 200, name  # 1999..2019 of monthly cells
        assert served == expected, name
        if name == "buy_and_hold":
            assert served[(2008, 10)] == "-16.9%"  # issue 10: the dashboard showed about -32%

        # the lines are the report's, sampled: every served point sits on the report's trace
        for line, trace in (("drawdown", "Drawdown"), ("rolling_sharpe", "Rolling Sharpe")):
            drawn = report_line(html, trace)
            scale = 100.0 if line == "drawdown" else 1.0
            for point in body[line]["points"]:
                stamp = point["ts"].replace("Z", "+00:00")
                assert math.isclose(
                    point["value"] * scale, drawn[stamp], rel_tol=1e-6, abs_tol=1e-6
                ), (name, line, stamp)
        assert body["rolling_sharpe"]["window"] == _rolling_window(body["total_points"])

        # the benchmark the worker stored is the report's buy-and-hold line
        assert body["benchmark"]["symbol"] == "SP500", body["benchmark_note"]
        drawn = report_line(html, "Buy &amp; hold SP500")
        assert body["benchmark"]["total_points"] == len(drawn)
        for point in body["benchmark"]["points"]:
            stamp = point["ts"].replace("Z", "+00:00")
            assert math.isclose(point["value"], drawn[stamp], rel_tol=1e-12)


def test_statistics_come_from_every_stored_point_not_the_downsampled_curve(
    client: TestClient, seed: Seeder, viewer: Person
) -> None:
    # a curve whose months end far from their intra-month extremes
    stamps = days(400)
    values = [100_000 * (1 + 0.3 * math.sin(i / 3)) * (1 + i / 2000) for i in range(400)]
    run_id = seed.run(equity=list(zip(stamps, values, strict=True)))
    body = client.get(f"/v1/runs/{run_id}/analytics?points=8", headers=viewer.headers).json()

    table = monthly_returns(pd.Series(values, index=pd.DatetimeIndex(stamps)))
    expected = {
        (int(year), int(month)): float(value)
        for (year, month), value in table.stack().items()
        if not math.isnan(value)
    }
    served = {
        (row["year"], month + 1): value
        for row in body["monthly_returns"]
        for month, value in enumerate(row["months"])
        if value is not None
    }
    assert served.keys() == expected.keys()
    for cell, value in expected.items():
        assert math.isclose(served[cell], value, rel_tol=1e-9), cell

    assert body["total_points"] == 400
    assert len(body["drawdown"]["points"]) <= 8
    assert body["drawdown"]["total_points"] == 400
    deepest = float(np.min(drawdown_series(np.array(values))))
    assert math.isclose(min(p["value"] for p in body["drawdown"]["points"]), deepest)
    assert body["rolling_sharpe"]["window"] == 100
    assert body["rolling_sharpe"]["total_points"] == 400 - 100  # 399 returns, 99 before a window
    assert body["periods_per_year"] == 365.0  # inferred: the seeded curve steps every day
    assert body["benchmark"] is None
    assert body["benchmark_note"] == "the run's config names no benchmark"


def test_a_run_that_has_not_completed_has_empty_statistics(
    client: TestClient, seed: Seeder, viewer: Person
) -> None:
    run_id = seed.run(status=RunStatus.RUNNING)
    body = client.get(f"/v1/runs/{run_id}/analytics", headers=viewer.headers).json()
    assert body["status"] == "running"
    assert body["total_points"] == 0
    assert body["monthly_returns"] == []
    assert body["drawdown"] == {"total_points": 0, "points": []}
    assert body["benchmark"] is None
    assert body["benchmark_note"] == "the benchmark curve is stored when the run completes"


def test_analytics_of_an_unknown_run_is_404_and_points_are_bounded(
    client: TestClient, viewer: Person
) -> None:
    missing = uuid.uuid4()
    assert_error(
        client.get(f"/v1/runs/{missing}/analytics", headers=viewer.headers), 404, "not_found"
    )
    for bad in (1, 10_001):
        response = client.get(f"/v1/runs/{missing}/analytics?points={bad}", headers=viewer.headers)
        assert_error(response, 422, "validation_error", field="query.points")


def test_the_equity_read_of_a_run_analyze_never_saw_joins_nothing(
    client: TestClient, seed: Seeder, database_url: str
) -> None:
    """Issue 10: with every stored run in ANALYZE's most-common values, a new run's id is
    estimated at one row; the old `ts IN (subquery)` was then planned as a nested loop that
    re-ran the window query per point (81 s for 5,031 points). One pass has no join to choose."""
    for k in range(3):
        seed.run(equity=[(d, 100_000.0 + k + i) for i, d in enumerate(days(600))])

    async def plan() -> str:
        connection = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            await connection.execute("ANALYZE equity_points")
            run_id = uuid.uuid4()  # stored after ANALYZE, as the worker stores a new run
            await connection.execute(
                "INSERT INTO runs (id, strategy_id, type, status, progress, processed, total, "
                "message, config, backtest_config, repro, metrics, cancel_requested, attempts) "
                "VALUES ($1, 'momentum_v1', 'backtest', 'completed', 1, 0, 0, '', '{}', '{}', "
                "'{}', '{}', false, 1)",
                run_id,
            )
            await connection.copy_records_to_table(
                "equity_points",
                records=[(run_id, d, 1.0 + i, 1.0, 0.0, 0.0) for i, d in enumerate(days(5031))],
                columns=("run_id", "ts", "equity", "cash", "positions_value", "gross_exposure"),
            )
            sql = EQUITY_DOWNSAMPLED
            for name, position in (("run_id", "$1"), ("buckets", "$2"), ("points", "$3")):
                sql = sql.replace(f":{name}", position)
            rows = await connection.fetch("EXPLAIN " + sql, run_id, 250, 1000)
            return "\n".join(row[0] for row in rows)
        finally:
            await connection.close()

    shown = asyncio.run(plan())
    assert "pk_equity_points" in shown, shown
    assert "Join" not in shown, shown
    assert "Nested Loop" not in shown, shown


def test_a_query_past_the_statement_timeout_answers_503_with_retry_after(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path, statement_timeout_ms=300)
    app = create_app(settings, database_url=database_url, redis_url=redis_url)
    with TestClient(app) as client:
        seed = Seeder(client)
        viewer = seed.user("viewer", Role.VIEWER)
        run_id = seed.run(equity=[(d, 100.0 + i) for i, d in enumerate(days(50))])
        assert client.get(f"/v1/runs/{run_id}/equity", headers=viewer.headers).status_code == 200

        locked, release = threading.Event(), threading.Event()

        async def hold_lock() -> None:
            connection = await asyncpg.connect(asyncpg_dsn(database_url))
            try:
                async with connection.transaction():
                    await connection.execute("LOCK TABLE equity_points IN ACCESS EXCLUSIVE MODE")
                    locked.set()
                    while not release.is_set():
                        await asyncio.sleep(0.02)
            finally:
                await connection.close()

        holder = threading.Thread(target=asyncio.run, args=(hold_lock(),))
        holder.start()
        try:
            assert locked.wait(30)
            started = datetime.now(UTC)
            response = client.get(f"/v1/runs/{run_id}/analytics", headers=viewer.headers)
            waited = datetime.now(UTC) - started
        finally:
            release.set()
            holder.join(30)
        error = assert_error(response, 503, "unavailable")
        assert response.headers["retry-after"] == "5"
        assert "QUANT_STATEMENT_TIMEOUT_MS" in error["message"]
        assert waited < timedelta(seconds=20)  # cancelled by the server, not left waiting
        # the pool's connection is usable again afterwards
        assert client.get(f"/v1/runs/{run_id}/analytics", headers=viewer.headers).status_code == 200
