"""Runs: validation before any write, one transaction for row and job, reads, cancel."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from quant_api.downsampling import keep_extremes
from quant_api.schemas.v1.common import Page
from quant_api.schemas.v1.runs import RunSummary
from quant_db.jobs import RUN_ENTRYPOINT
from quant_db.schema import Run
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from quant_engine.metrics import compute_metrics
from quant_ingestion import ingest
from quant_marketdata import SampleSource, SyntheticSource
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import START, Person, Seeder, days


@pytest.fixture
def trader(seed: Seeder) -> Person:
    return seed.user("trader", Role.TRADER)


def _counts(seed: Seeder) -> tuple[int, int]:
    return seed.count("runs"), seed.count("pgqueuer")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"strategy_id": "no_such_strategy"}, "body.strategy_id"),
        ({"strategy_id": "momentum_v1", "params": {"fast": 0}}, "body.params.fast"),
        ({"strategy_id": "momentum_v1", "params": {"fast": 60, "slow": 50}}, "body.params"),
        ({"strategy_id": "momentum_v1", "params": {"speed": 3}}, "body.params.speed"),
        ({"strategy_id": "momentum_v1", "start": "2020-13-01"}, "body.start"),
        ({"strategy_id": "momentum_v1", "start": "2020-06-01", "end": "2020-01-01"}, "body.end"),
        ({"strategy_id": "xsec_momentum_v1", "start": "2015-01-01"}, "body.start"),
        ({"strategy_id": "momentum_v1", "start": "2999-01-01"}, "body.start"),
        ({"strategy_id": "momentum_v1", "symbols": ["SP 500"]}, "body.symbols.0"),
        ({"strategy_id": "momentum_v1", "symbols": ["SP500", "ZZZZ"]}, "body.symbols"),
        ({"strategy_id": "momentum_v1", "backtest": {"capital": 0}}, "body.backtest.capital"),
        (
            {"strategy_id": "buy_and_hold", "type": "walk_forward"},
            "body.walk_forward.parameter_grid",
        ),
        (
            {
                "strategy_id": "momentum_v1",
                "type": "walk_forward",
                "walk_forward": {"parameter_grid": {"speed": [1, 2]}},
            },
            "body.walk_forward.parameter_grid",
        ),
        (
            {
                "strategy_id": "momentum_v1",
                "type": "walk_forward",
                "walk_forward": {"parameter_grid": {"fast": [10, 80]}},
            },
            "body.walk_forward.parameter_grid",
        ),
        (
            {
                "strategy_id": "momentum_v1",
                "type": "walk_forward",
                "walk_forward": {"in_sample_days": 1},
            },
            "body.walk_forward.in_sample_days",
        ),
        ({"strategy_id": "momentum_v1", "walk_forward": {"windows": 3}}, "body.walk_forward"),
    ],
)
def test_an_invalid_run_request_is_a_422_naming_the_field_and_writes_nothing(
    client: TestClient, seed: Seeder, trader: Person, body: dict[str, Any], field: str
) -> None:
    before = _counts(seed)
    response = client.post("/v1/runs", json=body, headers=trader.headers)
    assert_error(response, 422, "validation_error", field=field)
    assert _counts(seed) == before == (0, 0)


def test_a_valid_backtest_is_queued_with_its_job_and_the_full_configs(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    body = {
        "strategy_id": "momentum_v1",
        "symbols": ["SP500", "NASDAQ"],
        "start": "2010-01-04",
        "end": "2015-12-31",
        "params": {"fast": 10},
        "backtest": {"capital": "250000", "commission_bps": 2, "fill_timing": "next_open"},
    }
    response = client.post("/v1/runs", json=body, headers=trader.headers)
    assert response.status_code == 202, response.text
    run_id = uuid.UUID(response.json()["id"])
    assert response.json()["status"] == "queued"
    assert response.headers["location"] == f"/v1/runs/{run_id}"
    [(run,)] = seed.rows(select(Run).where(Run.id == run_id))
    assert run.status is RunStatus.QUEUED
    assert run.created_by == trader.id
    assert run.config["id"] == "momentum_v1"
    assert run.config["class"] == "quant_strategy.builtin.momentum:SmaCrossover"
    assert run.config["params"] == {"fast": 10, "slow": 50}
    assert run.config["universe"] == ["SP500", "NASDAQ"]
    assert (run.config["start"], run.config["end"]) == ("2010-01-04", "2015-12-31")
    assert run.backtest_config["initial_capital"] == "250000"
    assert run.backtest_config["commission_bps"] == "2"
    assert run.backtest_config["fill_timing"] == "next_open"
    assert (run.backtest_config["start"], run.backtest_config["end"]) == (
        "2010-01-04",
        "2015-12-31",
    )
    jobs = seed.rows(select(*_job_columns()))
    assert jobs == [(RUN_ENTRYPOINT, run_id.bytes, "queued")]
    detail = client.get(response.headers["location"], headers=trader.headers).json()
    assert detail["status"] == "queued"
    assert (detail["progress"], detail["processed"], detail["total"]) == (0.0, 0, 0)


def _job_columns() -> list[Any]:
    from sqlalchemy import column, table  # noqa: PLC0415

    jobs = table("pgqueuer", column("entrypoint"), column("payload"), column("status"))
    return [jobs.c.entrypoint, jobs.c.payload, jobs.c.status]


def test_a_walk_forward_takes_the_yaml_grid_with_body_overrides(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    body = {
        "strategy_id": "momentum_v1",
        "type": "walk_forward",
        "walk_forward": {"out_of_sample_days": 180, "objective": "sortino"},
    }
    response = client.post("/v1/runs", json=body, headers=trader.headers)
    assert response.status_code == 202, response.text
    [(run,)] = seed.rows(select(Run).where(Run.id == uuid.UUID(response.json()["id"])))
    wf = run.config["walk_forward"]
    assert wf["parameter_grid"] == {"fast": [5, 10, 20, 30, 40], "slow": [50, 75, 100, 150, 200]}
    assert (wf["in_sample_days"], wf["out_of_sample_days"], wf["objective"]) == (
        1095,
        180,
        "sortino",
    )
    assert run.type.value == "walk_forward"


def test_runs_are_listed_newest_first_with_filters_and_a_total(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    for _ in range(3):
        seed.run("momentum_v1")
    seed.run("buy_and_hold", status=RunStatus.FAILED)
    page = client.get("/v1/runs?per_page=2&page=2", headers=trader.headers).json()
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (4, 2, 2, 2)
    failed = client.get("/v1/runs?status=failed", headers=trader.headers).json()
    assert [r["strategy_id"] for r in failed["items"]] == ["buy_and_hold"]
    mine = client.get("/v1/runs?strategy=momentum_v1&type=backtest", headers=trader.headers).json()
    assert mine["total"] == 3
    beyond = client.get("/v1/runs?per_page=2&page=5", headers=trader.headers).json()
    assert (beyond["total"], beyond["items"]) == (4, [])  # past the end: the total still holds
    none = client.get("/v1/runs?status=cancelled", headers=trader.headers).json()
    assert (none["total"], none["items"]) == (0, [])
    assert client.get("/v1/runs?type=live", headers=trader.headers).json()["total"] == 0


KEY_METRICS = ("total_return", "annual_return", "sharpe", "max_drawdown_pct", "win_rate")
KEY_METRICS_AND_TRADES = (*KEY_METRICS, "num_trades", "open_trades", "open_trade_pnl")
NO_KEY_METRICS = dict.fromkeys(KEY_METRICS_AND_TRADES)


def _engine_metrics(seed_value: int) -> dict[str, Any]:
    """Metrics as the worker stores them: the engine's own, of a random-walk equity curve."""
    rng = np.random.default_rng(seed_value)
    equity = 100_000 * np.cumprod(1 + rng.normal(0.0004, 0.01, 800))
    return compute_metrics(equity, periods_per_year=252).as_dict()


def _entries(client: TestClient, person: Person) -> dict[str, dict[str, Any]]:
    page = client.get("/v1/runs?per_page=50", headers=person.headers).json()
    return {entry["id"]: entry for entry in page["items"]}


def test_a_completed_runs_list_entry_carries_the_key_metrics_of_its_detail(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    stored = {**_engine_metrics(1), "num_trades": 17, "win_rate": 0.5294117647058824}
    done = seed.run(metrics=stored)
    entry = _entries(client, trader)[str(done)]
    detail = client.get(f"/v1/runs/{done}", headers=trader.headers).json()
    assert entry["key_metrics"] == {
        name: detail["metrics"][name] for name in KEY_METRICS_AND_TRADES
    }
    # the same floats to the last bit, not a rounded copy
    assert entry["key_metrics"]["sharpe"] == stored["sharpe"] != 0
    assert entry["key_metrics"]["max_drawdown_pct"] == stored["max_drawdown_pct"] > 0
    assert entry["key_metrics"]["num_trades"] == 17
    assert "metrics" not in entry  # the blob itself stays on the detail


def test_a_metric_the_run_did_not_store_as_a_number_is_null_in_the_list(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    # annual_return absent, sharpe stored as null (non-finite), win_rate an odd string
    stored = {"total_return": -0.125, "sharpe": None, "win_rate": "n/a", "num_trades": 0}
    done = seed.run(metrics=stored)
    entry = _entries(client, trader)[str(done)]
    assert entry["key_metrics"] == {**NO_KEY_METRICS, "total_return": -0.125, "num_trades": 0}


@pytest.mark.parametrize(
    "status", [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.FAILED, RunStatus.CANCELLED]
)
def test_a_run_that_did_not_complete_has_null_key_metrics_in_the_list(
    client: TestClient, seed: Seeder, trader: Person, status: RunStatus
) -> None:
    # even with figures in its metrics column: only a completed run's are its results
    unfinished = seed.run(status=status, metrics=_engine_metrics(2))
    entry = _entries(client, trader)[str(unfinished)]
    assert (entry["status"], entry["key_metrics"]) == (status.value, NO_KEY_METRICS)


def test_a_walk_forward_runs_list_entry_carries_its_out_of_sample_headline_metrics(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    # the worker stores the stitched out-of-sample metrics at the top level, beside a large
    # walk_forward block of windows whose own metrics must not be picked up
    oos = _engine_metrics(3)
    window_metrics = _engine_metrics(4)
    windows = [
        {"number": k, "out_of_sample_metrics": window_metrics, "scores": [0.1] * 25}
        for k in range(40)
    ]
    run_id = seed.run(
        run_type=RunType.WALK_FORWARD, metrics={**oos, "walk_forward": {"windows": windows}}
    )
    entry = _entries(client, trader)[str(run_id)]
    assert entry["type"] == "walk_forward"
    assert entry["key_metrics"] == {name: oos[name] for name in KEY_METRICS_AND_TRADES}
    assert entry["key_metrics"]["sharpe"] != window_metrics["sharpe"]


def test_the_runs_list_body_is_exactly_its_response_models_json(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    # the list is pre-serialised (ADR 0013): its bytes must be what FastAPI's response-model
    # pass would have written, for completed and unfinished runs alike
    seed.run(metrics=_engine_metrics(5))
    seed.run(status=RunStatus.RUNNING)
    seed.run(run_type=RunType.WALK_FORWARD, metrics={**_engine_metrics(6), "walk_forward": {}})
    response = client.get("/v1/runs", headers=trader.headers)
    assert response.headers["content-type"] == "application/json"
    page = Page[RunSummary].model_validate_json(response.content)
    assert len(page.items) == 3
    assert response.content == page.model_dump_json().encode()
    assert response.json()["items"][0].keys() == RunSummary.model_json_schema()["properties"].keys()


def test_equity_is_downsampled_on_the_server_keeping_the_extremes(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    values = [100_000 + 1000 * math.sin(i / 40) for i in range(2000)]
    values[1234] = 50_000.25  # the worst trough
    values[777] = 200_000.5  # the best peak
    run_id = seed.run(equity=list(zip(days(2000), values, strict=True)))
    response = client.get(f"/v1/runs/{run_id}/equity?points=40", headers=trader.headers)
    assert response.status_code == 200
    body = response.json()
    points = body["points"]
    assert body["total_points"] == 2000
    assert 2 < len(points) <= 40
    equities = [float(p["equity"]) for p in points]
    assert min(equities) == 50_000.25
    assert max(equities) == 200_000.5
    stamps = [p["ts"] for p in points]
    assert stamps == sorted(stamps)
    assert stamps[0] == START.isoformat().replace("+00:00", "Z")
    assert stamps[-1] == (START + timedelta(days=1999)).isoformat().replace("+00:00", "Z")
    two = client.get(f"/v1/runs/{run_id}/equity?points=2", headers=trader.headers).json()
    assert sorted(float(p["equity"]) for p in two["points"]) == [50_000.25, 200_000.5]
    whole = client.get(f"/v1/runs/{run_id}/equity?points=10000", headers=trader.headers).json()
    assert len(whole["points"]) == 2000
    for bad in (1, 10_001):
        response = client.get(f"/v1/runs/{run_id}/equity?points={bad}", headers=trader.headers)
        assert_error(response, 422, "validation_error", field="query.points")


def test_server_side_downsampling_keeps_exactly_the_points_keep_extremes_keeps(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    # ties included: flat stretches have many equal minima and maxima; first occurrence wins
    values = [100_000 + round(500 * math.sin(i / 7)) for i in range(3001)]
    run_id = seed.run(equity=list(zip(days(3001), values, strict=True)))
    for points in (4, 7, 40, 500, 3000):
        body = client.get(
            f"/v1/runs/{run_id}/equity?points={points}", headers=trader.headers
        ).json()
        expected = [days(3001)[i] for i in keep_extremes([float(v) for v in values], points)]
        got = [p["ts"] for p in body["points"]]
        assert got == [d.isoformat().replace("+00:00", "Z") for d in expected], points


def test_trades_are_paginated_with_a_total(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    run_id = seed.run(trades=[(t, i - 2) for i, t in enumerate(days(5), start=1)])
    page = client.get(f"/v1/runs/{run_id}/trades?per_page=2&page=3", headers=trader.headers).json()
    assert (page["total"], len(page["items"])) == (5, 1)
    assert page["items"][0]["pnl"] == 3  # figures are JSON numbers


def test_the_report_is_served_as_html_once_written(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    done = seed.run(report="<html><body>Sharpe 1.2</body></html>")
    response = client.get(f"/v1/runs/{done}/report", headers=trader.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<html><body>Sharpe 1.2</body></html>"
    pending = seed.run(status=RunStatus.RUNNING)
    error = assert_error(
        client.get(f"/v1/runs/{pending}/report", headers=trader.headers), 404, "not_found"
    )
    assert "no report yet" in error["message"]


def test_cancel_is_immediate_when_queued_requested_when_running_409_when_finished(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    created = client.post("/v1/runs", json={"strategy_id": "momentum_v1"}, headers=trader.headers)
    queued = created.json()["id"]
    running = seed.run(status=RunStatus.RUNNING, created_by=trader.id)
    finished = seed.run(status=RunStatus.COMPLETED, created_by=trader.id)

    answer = client.post(f"/v1/runs/{queued}/cancel", headers=trader.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": queued, "status": "cancelled", "cancel_requested": True}
    detail = client.get(f"/v1/runs/{queued}", headers=trader.headers).json()
    assert detail["status"] == "cancelled"
    assert detail["finished_at"] is not None

    answer = client.post(f"/v1/runs/{running}/cancel", headers=trader.headers)
    assert answer.json() == {"id": str(running), "status": "running", "cancel_requested": True}

    assert_error(
        client.post(f"/v1/runs/{finished}/cancel", headers=trader.headers), 409, "conflict"
    )
    assert_error(client.post(f"/v1/runs/{queued}/cancel", headers=trader.headers), 409, "conflict")
    assert_error(
        client.post(f"/v1/runs/{uuid.uuid4()}/cancel", headers=trader.headers), 404, "not_found"
    )


def test_viewers_cannot_create_or_cancel_runs(client: TestClient, seed: Seeder) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    response = client.post("/v1/runs", json={"strategy_id": "momentum_v1"}, headers=viewer.headers)
    assert_error(response, 403, "forbidden")
    assert seed.count("runs") == 0


def test_a_symbol_only_in_the_database_is_accepted_and_one_in_neither_place_names_itself(
    client: TestClient, seed: Seeder, trader: Person, database_url: str
) -> None:
    ingest(SyntheticSource(seed=2, n_symbols=1, n_bars=300, decimals=4), ["SYN000"], database_url)
    ingest(SampleSource(), ["SP500"], database_url)  # momentum_v1's benchmark
    body = {"strategy_id": "momentum_v1", "symbols": ["SYN000"], "start": None, "end": None}
    accepted = client.post("/v1/runs", json=body, headers=trader.headers)
    assert accepted.status_code == 202, accepted.text
    refused = client.post(
        "/v1/runs", json={**body, "symbols": ["SYN000", "GOOG"]}, headers=trader.headers
    )
    assert_error(refused, 422, "validation_error", field="body.symbols")
    assert "SYN000" in refused.json()["error"]["message"]
    assert seed.count("runs") == 1
