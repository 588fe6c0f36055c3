"""GET /v1/metrics/summary: each strategy's headline run on its own, checked by hand (ADR 0018)."""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from quant_db.schema.identity import Role
from quant_db.schema.runs import RunType
from quant_engine.metrics import periods_per_year
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import START, Person, Seeder, days


def _summary(client: TestClient, viewer: Person, query: str = "") -> dict[str, Any]:
    response = client.get(f"/v1/metrics/summary{query}", headers=viewer.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _by_strategy(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["strategy_id"]: row for row in rows}


def _sharpe(values: list[float], periods_per_year: float) -> float:
    returns = [b / a - 1 for a, b in itertools.pairwise(values)]
    return statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(periods_per_year)


def test_without_data_the_summary_lists_no_run_and_names_every_strategy(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    body = _summary(client, viewer)
    assert (body["strategies"], body["benchmarks"]) == ([], [])
    assert body["without_results"] == [
        "buy_and_hold",
        "mean_reversion_v1",
        "momentum_v1",
        "xgb_direction_v1",
        "xgb_direction_wf_v1",
        "xsec_momentum_v1",
    ]
    assert "total_pnl" not in body
    assert "sharpe" not in body


def _seed_runs_of_different_capital_and_dates(seed: Seeder) -> Person:
    viewer = seed.user("viewer", Role.VIEWER)
    d = days(6)
    seed.run(  # 100k from the first day
        "momentum_v1",
        equity=list(zip(d[:5], [100_000, 110_000, 105_000, 120_000, 130_000], strict=True)),
        trades=[(d[1], 10), (d[3], -5)],
    )
    seed.run(  # 50 from the third day: a benchmark, and other money
        "buy_and_hold",
        equity=list(zip(d[2:], [50, 55, 45, 60], strict=True)),
        trades=[(d[5], 7)],
    )
    return viewer


def test_backtests_of_different_capital_and_dates_are_never_summed(
    client: TestClient, seed: Seeder
) -> None:
    viewer = _seed_runs_of_different_capital_and_dates(seed)
    body = _summary(client, viewer, "?period=all&mode=BACKTEST")
    momentum = _by_strategy(body["strategies"])["momentum_v1"]
    # momentum's figures are its own run's alone: 100k -> 130k, never 100,050 -> 130,060
    curve = [100_000, 110_000, 105_000, 120_000, 130_000]
    assert [float(p["equity"]) for p in momentum["equity_curve"]] == curve
    assert (momentum["start_equity"], momentum["end_equity"], momentum["pnl"]) == (
        100000,
        130000,
        30000,
    )
    assert math.isclose(momentum["total_return"], 0.3)
    assert math.isclose(momentum["max_drawdown"], 5 / 110)
    # no periods per year stored: the ones its bars imply (a Saturday among them: 365)
    implied = periods_per_year(pd.DatetimeIndex(days(5)))
    assert momentum["periods_per_year"] == implied == 365
    assert math.isclose(momentum["sharpe"], _sharpe(curve, implied), rel_tol=1e-9)
    assert (momentum["closed_trades"], momentum["win_rate"]) == (2, 0.5)
    assert (momentum["basis"], momentum["run_type"]) == ("latest_completed", "backtest")
    assert "backtests are not added up" in body["aggregate_note"].lower()


def test_the_benchmark_is_listed_apart_and_never_added_to_the_strategies(
    client: TestClient, seed: Seeder
) -> None:
    viewer = _seed_runs_of_different_capital_and_dates(seed)
    body = _summary(client, viewer)
    assert [row["strategy_id"] for row in body["strategies"]] == ["momentum_v1"]
    benchmark = _by_strategy(body["benchmarks"])["buy_and_hold"]
    assert benchmark["is_benchmark"] is True
    assert (benchmark["start_equity"], benchmark["end_equity"], benchmark["pnl"]) == (
        50,
        60,
        10,
    )
    assert (benchmark["closed_trades"], benchmark["win_rate"]) == (1, 1.0)
    assert body["without_results"] == [
        "mean_reversion_v1",
        "xgb_direction_v1",
        "xgb_direction_wf_v1",
        "xsec_momentum_v1",
    ]


def test_sharpe_is_annualised_with_the_runs_own_periods_per_year(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    stamps = [START + timedelta(days=i) for i in range(8)]  # every day, weekends too: 24/7
    values = [1000.0, 1010.0, 1005.0, 1030.0, 1020.0, 1050.0, 1040.0, 1060.0]
    stored = {
        "start_equity": 1000.0,
        "end_equity": 1060.0,
        "total_return": 0.06,
        "sharpe": 7.25,
        "max_drawdown_pct": 0.01,
        "win_rate": 0.0,
        "num_trades": 0,
        "periods_per_year": 365.0,
    }
    seed.run("momentum_v1", equity=list(zip(stamps, values, strict=True)), metrics=stored)
    whole = _by_strategy(_summary(client, viewer, "?period=all")["strategies"])["momentum_v1"]
    # period all: the run's own stored figures, the same its run page shows
    assert (whole["sharpe"], whole["periods_per_year"], whole["total_return"]) == (
        7.25,
        365.0,
        0.06,
    )
    week = _by_strategy(_summary(client, viewer, "?period=1w")["strategies"])["momentum_v1"]
    assert week["periods_per_year"] == 365.0
    assert math.isclose(week["sharpe"], _sharpe(values, 365), rel_tol=1e-9)
    assert not math.isclose(week["sharpe"], _sharpe(values, 252), rel_tol=1e-3)


def test_the_period_cuts_each_runs_own_window_ending_at_its_last_point(
    client: TestClient, seed: Seeder
) -> None:
    viewer = _seed_runs_of_different_capital_and_dates(seed)
    body = _summary(client, viewer, "?period=1d")
    momentum = _by_strategy(body["strategies"])["momentum_v1"]
    assert [float(p["equity"]) for p in momentum["equity_curve"]] == [120_000, 130_000]
    assert (momentum["pnl"], momentum["closed_trades"], momentum["sharpe"]) == (10000, 0, 0.0)
    benchmark = _by_strategy(body["benchmarks"])["buy_and_hold"]
    assert [float(p["equity"]) for p in benchmark["equity_curve"]] == [45, 60]
    assert (benchmark["closed_trades"], benchmark["win_rate"]) == (1, 1.0)


def test_the_reference_run_is_the_headline_even_when_a_later_test_finished(
    client: TestClient, seed: Seeder
) -> None:
    trader = seed.user("trader", Role.TRADER)
    d = days(3)
    reference = seed.run("momentum_v1", equity=list(zip(d, [100, 101, 102], strict=True)))
    client.patch(
        f"/v1/runs/{reference}",
        json={"is_reference": True, "label": "house"},
        headers=trader.headers,
    ).raise_for_status()
    seed.run(
        "momentum_v1",
        equity=list(zip(d, [100, 300, 900], strict=True)),
        finished_at=datetime.now(UTC) + timedelta(hours=1),
    )
    row = _by_strategy(_summary(client, trader)["strategies"])["momentum_v1"]
    assert (row["run_id"], row["basis"], row["label"], row["end_equity"]) == (
        str(reference),
        "reference",
        "house",
        102,
    )


def test_paper_mode_never_shows_backtests_and_says_there_is_no_paper_account(
    client: TestClient, seed: Seeder
) -> None:
    admin = seed.user("admin", Role.ADMIN)
    seed.run("mean_reversion_v1", equity=[(t, 1000) for t in days(3)])
    seed.run("mean_reversion_v1", run_type=RunType.PAPER, equity=[(t, 500) for t in days(2)])
    client.post(
        "/v1/controls/mode-transition",
        json={"strategy_id": "mean_reversion_v1", "mode": "PAPER", "reason": "paper trial"},
        headers=admin.headers,
    ).raise_for_status()
    body = _summary(client, admin, "?mode=PAPER")
    # only the paper run, on its own; no total across strategies or accounts
    assert [(r["strategy_id"], r["run_type"], r["end_equity"]) for r in body["strategies"]] == [
        ("mean_reversion_v1", "paper", 500)
    ]
    assert "no paper account exists yet" in body["aggregate_note"].lower()
    backtest = _summary(client, admin, "?mode=BACKTEST")
    assert "mean_reversion_v1" not in [r["strategy_id"] for r in backtest["strategies"]]


def test_the_curves_are_downsampled_and_bad_parameters_are_422(
    client: TestClient, seed: Seeder
) -> None:
    viewer = _seed_runs_of_different_capital_and_dates(seed)
    rows = _summary(client, viewer, "?points=4")["strategies"]
    assert all(len(row["equity_curve"]) <= 4 for row in rows)
    for query, field in (("?period=2y", "query.period"), ("?mode=SIM", "query.mode")):
        response = client.get(f"/v1/metrics/summary{query}", headers=viewer.headers)
        assert_error(response, 422, "validation_error", field=field)
