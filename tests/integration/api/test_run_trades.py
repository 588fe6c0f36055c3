"""A run's trades as the API serves them: open ones labelled, counts that agree, one run id."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from quant_backtest.job_loop import serve
from quant_db.schema.identity import Role
from tests.integration.api.seed import Seeder, days


def test_buy_and_hold_by_the_worker_serves_one_open_trade_labelled_and_counted_apart(
    client: TestClient, seed: Seeder, database_url: str
) -> None:
    trader = seed.user("trader", Role.TRADER)
    queued = client.post(
        "/v1/runs",
        json={"strategy_id": "buy_and_hold", "start": "2010-01-01", "end": "2012-12-31"},
        headers=trader.headers,
    )
    assert queued.status_code == 202, queued.text
    run_id = queued.json()["id"]
    asyncio.run(serve(database_url, drain=True))

    run = client.get(f"/v1/runs/{run_id}", headers=trader.headers).json()
    assert run["status"] == "completed", run["error"]
    trades = client.get(f"/v1/runs/{run_id}/trades", headers=trader.headers).json()
    (trade,) = trades["items"]
    assert trade["status"] == "open"
    assert (trade["exit_time"], trade["exit_price"]) == (None, None)
    # held from entry to the last close: its excursions bound what it kept, in three units
    assert trade["mae"] <= 0 <= trade["mfe"]
    assert trade["given_back"] <= 0
    move = trade["mfe"] + trade["given_back"]  # the move kept per unit, to the last close
    assert trade["mae"] <= move <= trade["mfe"]
    quantity, entry_price = trade["quantity"], trade["entry_price"]
    assert abs(move * quantity - trade["gross_pnl"]) < 0.01
    assert abs(trade["excursion_value"]["mfe"] - trade["mfe"] * quantity) < 1e-6
    assert abs(trade["excursion_pct"]["mae"] - trade["mae"] / entry_price) < 1e-9
    metrics = run["metrics"]
    assert float(trade["pnl"]) == metrics["open_trade_pnl"]
    assert abs(float(trade["pnl"]) - (metrics["end_equity"] - metrics["start_equity"])) < 0.01
    # every trade row is either a closed trade the metrics count or an open one counted apart
    assert trades["total"] == metrics["num_trades"] + metrics["open_trades"]
    [entry] = client.get("/v1/runs", headers=trader.headers).json()["items"]
    key = entry["key_metrics"]
    assert (key["num_trades"], key["win_rate"], key["open_trades"]) == (0, None, 1)
    assert key["open_trade_pnl"] == metrics["open_trade_pnl"] > 0
    report = client.get(f"/v1/runs/{run_id}/report", headers=trader.headers).text
    assert f"run {run_id}</title>" in report


def test_closed_trades_are_served_with_status_closed(client: TestClient, seed: Seeder) -> None:
    trader = seed.user("trader", Role.TRADER)
    run_id = seed.run(trades=[(t, 1.5) for t in days(2)])
    items = client.get(f"/v1/runs/{run_id}/trades", headers=trader.headers).json()["items"]
    assert [t["status"] for t in items] == ["closed", "closed"]
