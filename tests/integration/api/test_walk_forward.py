"""GET /v1/runs/{id}/windows: the windows a worker stored for a walk-forward run, typed."""

from __future__ import annotations

import asyncio
import uuid
from itertools import product
from typing import Any

import pytest
from fastapi.testclient import TestClient

from quant_backtest.job_loop import serve
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Person, Seeder

GRID = {"fast": [10, 20], "slow": [50, 100]}


@pytest.fixture
def viewer(seed: Seeder) -> Person:
    return seed.user("viewer", Role.VIEWER)


def test_a_walk_forward_run_by_the_worker_reads_back_window_by_window(
    client: TestClient, seed: Seeder, viewer: Person, database_url: str
) -> None:
    trader = seed.user("trader", Role.TRADER)
    queued = client.post(
        "/v1/runs",
        json={
            "strategy_id": "momentum_v1",
            "type": "walk_forward",
            "start": "2006-01-01",
            "end": "2012-12-31",
            "walk_forward": {
                "in_sample_days": 730,
                "out_of_sample_days": 365,
                "parameter_grid": GRID,
            },
        },
        headers=trader.headers,
    )
    assert queued.status_code == 202, queued.text
    run_id = queued.json()["id"]
    before = client.get(f"/v1/runs/{run_id}/windows", headers=viewer.headers).json()
    assert (before["status"], before["windows"], before["pbo"]) == ("queued", [], None)
    assert before["parameter_stability"] == []

    asyncio.run(serve(database_url, drain=True))

    stored = client.get(f"/v1/runs/{run_id}", headers=viewer.headers).json()
    assert stored["status"] == "completed", stored["error"]
    summary = stored["metrics"]["walk_forward"]
    response = client.get(f"/v1/runs/{run_id}/windows", headers=viewer.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "completed"
    combinations = [dict(zip(GRID, values, strict=True)) for values in product(*GRID.values())]
    assert len(body["windows"]) == len(summary["windows"]) == 5
    for window, raw in zip(body["windows"], summary["windows"], strict=True):
        assert window["index"] == raw["number"]
        assert [window["in_sample_start"], window["in_sample_end"]] == raw["in_sample"]
        assert [window["out_of_sample_start"], window["out_of_sample_end"]] == raw["out_of_sample"]
        assert window["in_sample_end"] < window["out_of_sample_start"]
        assert window["status"] in ("ok", "skipped")
        assert window["in_sample_scores"] == raw["scores"]
        assert window["in_sample_trade_counts"] == raw["trade_counts"]
        assert len(window["in_sample_scores"]) == len(combinations)
        if window["status"] == "ok":
            assert window["chosen_params"] in combinations
            assert window["in_sample_score"] == raw["in_sample_score"]
            oos = raw["out_of_sample_metrics"]
            assert window["trade_count"] == oos["num_trades"]
            assert window["out_of_sample_metrics"]["sharpe"] == oos["sharpe"]
            assert window["out_of_sample_score"] == raw["out_of_sample_score"]
    assert [w["index"] for w in body["windows"]] == sorted(w["index"] for w in body["windows"])
    assert body["pbo"]["pbo"] == summary["pbo"]["pbo"]
    assert body["pbo"]["n_combinations"] == summary["pbo"]["n_combinations"] > 1
    assert body["deflated_sharpe"] == summary["deflated_sharpe"]
    assert body["efficiency"] == summary["efficiency"]
    assert [s["name"] for s in body["parameter_stability"]] == ["fast", "slow"]
    assert body["parameter_stability"] == summary["stability"]
    assert body["out_of_sample_metrics"]["end_equity"] == stored["metrics"]["end_equity"]
    # the runs list carries the same out-of-sample headline figures the worker stored
    [entry] = client.get("/v1/runs", headers=viewer.headers).json()["items"]
    headline = entry["key_metrics"]
    assert headline == {name: stored["metrics"][name] for name in headline}
    assert set(headline) == {
        "total_return",
        "annual_return",
        "sharpe",
        "max_drawdown_pct",
        "win_rate",
        "num_trades",
        "open_trades",
        "open_trade_pnl",
    }
    assert headline["num_trades"] == body["out_of_sample_metrics"]["num_trades"] > 0


def _summary(windows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "end_equity": 101_000.0,
        "num_trades": 4,
        "walk_forward": {
            "windows": windows,
            "pbo": None,
            "deflated_sharpe": None,
            "efficiency": None,
            "stability": [],
        },
    }


def test_a_skipped_window_says_why_and_has_no_choice(
    client: TestClient, seed: Seeder, viewer: Person
) -> None:
    skipped = {
        "number": 3,
        "in_sample": ["2010-01-01", "2011-12-31"],
        "out_of_sample": ["2012-01-01", "2012-12-31"],
        "status": "skipped",
        "note": "no combination made 3 trades in sample",
        "chosen_params": None,
        "in_sample_score": None,
        "out_of_sample_score": None,
        "plateau": None,
        "in_sample_dsr": None,
        "in_sample_metrics": None,
        "out_of_sample_metrics": None,
        "start_equity": 100_000.0,
        "end_equity": 100_000.0,
        "scores": [None, None],
        "trade_counts": [1, 2],
    }
    run_id = seed.run(run_type=RunType.WALK_FORWARD, metrics=_summary([skipped]))
    body = client.get(f"/v1/runs/{run_id}/windows", headers=viewer.headers).json()
    [window] = body["windows"]
    assert (window["index"], window["status"], window["reason"]) == (
        3,
        "skipped",
        "no combination made 3 trades in sample",
    )
    assert (window["chosen_params"], window["trade_count"], window["in_sample_scores"]) == (
        None,
        None,
        [None, None],
    )
    assert (window["out_of_sample_start"], window["out_of_sample_end"]) == (
        "2012-01-01",
        "2012-12-31",
    )
    assert body["out_of_sample_metrics"]["end_equity"] == 101_000.0
    assert body["out_of_sample_metrics"]["num_trades"] == 4


def test_windows_are_a_409_for_a_backtest_a_404_for_no_run_and_empty_while_running(
    client: TestClient, seed: Seeder, viewer: Person
) -> None:
    backtest = seed.run()
    assert_error(
        client.get(f"/v1/runs/{backtest}/windows", headers=viewer.headers),
        409,
        "conflict",
        field="path.run_id",
    )
    assert_error(
        client.get(f"/v1/runs/{uuid.uuid4()}/windows", headers=viewer.headers), 404, "not_found"
    )
    running = seed.run(run_type=RunType.WALK_FORWARD, status=RunStatus.RUNNING)
    body = client.get(f"/v1/runs/{running}/windows", headers=viewer.headers).json()
    assert body == {
        "run_id": str(running),
        "status": "running",
        "windows": [],
        "pbo": None,
        "deflated_sharpe": None,
        "efficiency": None,
        "parameter_stability": [],
        "out_of_sample_metrics": None,
    }
