"""What the worker stores matches what it computed: one run id, open trades, exposure."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from quant_backtest.job_loop import serve
from quant_db.urls import asyncpg_dsn
from quant_engine import BacktestConfig
from quant_strategy import load_strategy_config
from tests.integration.test_worker import queue_run

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "strategies"
UUID_HEX = re.compile(r"\b[0-9a-f]{32}\b")


async def _fetch(url: str, sql: str, run_id: uuid.UUID) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return list(await connection.fetch(sql, run_id))
    finally:
        await connection.close()


def _stored(url: str, sql: str, run_id: uuid.UUID) -> list[asyncpg.Record]:
    return asyncio.run(_fetch(url, sql, run_id))


def _report(url: str, run_id: uuid.UUID) -> str:
    (row,) = _stored(url, "SELECT html_gzip FROM run_reports WHERE run_id = $1", run_id)
    return gzip.decompress(row["html_gzip"]).decode("utf-8")


def _config(name: str, **changes: Any) -> dict[str, Any]:
    config = load_strategy_config(CONFIGS / f"{name}.yaml").updated(**changes)
    return config.model_dump(mode="json", by_alias=True)


def test_worker_report_carries_the_runs_own_id_for_a_backtest_and_a_walk_forward(
    database_url: str,
) -> None:
    backtest = BacktestConfig(start=date(2008, 1, 1)).model_dump(mode="json")
    plain = asyncio.run(queue_run(database_url, _config("buy_and_hold"), backtest=backtest))
    walk_forward_config = _config(
        "momentum_v1",
        walk_forward={
            "in_sample_days": 730,
            "out_of_sample_days": 365,
            "parameter_grid": {"fast": [10, 20], "slow": [50, 100]},
        },
    )
    walk = asyncio.run(queue_run(database_url, walk_forward_config, "walk_forward", backtest))
    asyncio.run(serve(database_url, drain=True))
    for run_id in (plain, walk):
        html = _report(database_url, run_id)
        title = re.search(r"<title>(.*?)</title>", html)
        assert title is not None
        assert title.group(1).endswith(f"run {run_id}")
        assert UUID_HEX.search(html[: html.index("<style>")]) is None  # no other id in its head


def test_worker_stores_an_open_trade_marked_at_the_end_and_metrics_that_say_so(
    database_url: str,
) -> None:
    backtest = BacktestConfig(start=date(2008, 1, 1)).model_dump(mode="json")
    run_id = asyncio.run(queue_run(database_url, _config("buy_and_hold"), backtest=backtest))
    asyncio.run(serve(database_url, drain=True))
    (row,) = _stored(database_url, "SELECT status, metrics FROM runs WHERE id = $1", run_id)
    assert row["status"] == "completed"
    metrics = json.loads(row["metrics"])
    assert (metrics["num_trades"], metrics["open_trades"]) == (0, 1)
    assert metrics["win_rate"] is None
    (trade,) = _stored(database_url, "SELECT * FROM trades WHERE run_id = $1", run_id)
    assert (trade["exit_time"], trade["exit_price"]) == (None, None)
    assert trade["commission"] == Decimal("1.00")
    # marked at the last close: the trade's PnL is the whole change in equity
    change = metrics["end_equity"] - metrics["start_equity"]
    assert float(trade["pnl"]) == metrics["open_trade_pnl"]
    assert abs(float(trade["pnl"]) - change) < 0.01
    assert float(trade["pnl"]) > 0


def test_worker_stores_a_walk_forwards_exposure_with_its_curve(database_url: str) -> None:
    config = _config(
        "momentum_v1",
        walk_forward={
            "in_sample_days": 730,
            "out_of_sample_days": 365,
            "parameter_grid": {"fast": [10, 20], "slow": [50, 100]},
        },
    )
    backtest = BacktestConfig(start=date(2008, 1, 1)).model_dump(mode="json")
    run_id = asyncio.run(queue_run(database_url, config, "walk_forward", backtest))
    asyncio.run(serve(database_url, drain=True))
    (row,) = _stored(database_url, "SELECT status, metrics FROM runs WHERE id = $1", run_id)
    assert row["status"] == "completed"
    exposure = json.loads(row["metrics"])["exposure"]
    points = _stored(
        database_url,
        "SELECT equity, cash, positions_value, gross_exposure FROM equity_points "
        "WHERE run_id = $1 ORDER BY ts",
        run_id,
    )
    exposed = sum(1 for p in points if p["gross_exposure"] > 0)
    assert 0 < exposed < len(points)
    assert exposure == exposed / (len(points) + 1)  # the start point is in cash
    assert all(p["equity"] == p["cash"] + p["positions_value"] for p in points)
    assert any(p["positions_value"] != 0 for p in points)


def _orders_of_fills(url: str, run_id: uuid.UUID) -> list[asyncpg.Record]:
    """Each stored fill with its order's columns (a left join: a missing order shows as null)."""
    return _stored(
        url,
        "SELECT f.fill_id, f.client_order_id, f.ts, o.id AS order_id, o.status, o.code, "
        "o.broker_order_id, o.updated_at, o.submitted_at, o.closed_at FROM fills f "
        "LEFT JOIN orders o ON o.run_id = f.run_id AND o.client_order_id = f.client_order_id "
        "WHERE f.run_id = $1 ORDER BY f.id",
        run_id,
    )


def test_worker_stores_every_fill_with_its_order_for_a_backtest_and_a_walk_forward(
    database_url: str,
) -> None:
    backtest = BacktestConfig(start=date(2008, 1, 1), liquidate_at_end=True)
    plain = asyncio.run(
        queue_run(database_url, _config("buy_and_hold"), backtest=backtest.model_dump(mode="json"))
    )
    walk_forward_config = _config(
        "momentum_v1",
        walk_forward={
            "in_sample_days": 730,
            "out_of_sample_days": 365,
            "parameter_grid": {"fast": [10, 20], "slow": [50, 100]},
        },
    )
    walk = asyncio.run(
        queue_run(
            database_url,
            walk_forward_config,
            "walk_forward",
            BacktestConfig(start=date(2008, 1, 1)).model_dump(mode="json"),
        )
    )
    asyncio.run(serve(database_url, drain=True))
    for run_id in (plain, walk):
        (row,) = _stored(database_url, "SELECT status FROM runs WHERE id = $1", run_id)
        assert row["status"] == "completed"
        joined = _orders_of_fills(database_url, run_id)
        assert len(joined) >= 2
        assert all(r["order_id"] is not None for r in joined)  # no fill without its order
        for r in joined:
            assert r["code"] == ""
            assert r["broker_order_id"].startswith("sim-")  # the simulated broker's order id
            assert r["updated_at"] >= r["ts"] >= r["submitted_at"]
            assert r["updated_at"] == max(r["ts"], r["closed_at"] or r["ts"])
    # buy and hold: its one buy, then the end-of-run liquidation, each stored with its fill
    stored = _orders_of_fills(database_url, plain)
    assert len(stored) == 2
    (last,) = _stored(
        database_url, "SELECT max(ts) AS ts FROM equity_points WHERE run_id = $1", plain
    )
    assert (stored[1]["submitted_at"], stored[1]["status"]) == (last["ts"], "filled")
    # a walk-forward's order and its fills carry the same window prefix
    prefixes = {r["client_order_id"].split("-", 1)[0] for r in _orders_of_fills(database_url, walk)}
    assert len(prefixes) > 1
    assert all(re.fullmatch(r"w\d+", p) for p in prefixes)
