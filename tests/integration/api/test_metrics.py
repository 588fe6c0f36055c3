"""GET /v1/metrics/summary: computed from stored runs, checked against hand-computed values."""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from quant_db.schema.identity import Role
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Person, Seeder, days


def _summary(client: TestClient, viewer: Person, query: str = "") -> dict[str, object]:
    response = client.get(f"/v1/metrics/summary{query}", headers=viewer.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_without_data_the_summary_is_an_empty_state(client: TestClient, seed: Seeder) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    body = _summary(client, viewer)
    assert body["equity_curve"] == []
    assert body["total_pnl"] == "0"
    assert (body["total_return"], body["sharpe"], body["max_drawdown"], body["win_rate"]) == (
        0.0,
        0.0,
        0.0,
        0.0,
    )
    assert (body["start"], body["end"], body["strategies"]) == (None, None, [])


def _seed_two_strategies(client: TestClient, seed: Seeder) -> Person:
    admin = seed.user("admin", Role.ADMIN)
    d = days(6)
    seed.run(  # an older completed run: superseded by the next one
        "momentum_v1",
        equity=[(d[0], 1), (d[1], 1)],
        finished_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    seed.run(
        "momentum_v1",
        equity=list(zip(d[:5], [100, 110, 105, 120, 130], strict=True)),
        trades=[(d[1], 10), (d[3], -5)],
    )
    seed.run(
        "buy_and_hold",
        equity=list(zip(d[2:], [50, 55, 45, 60], strict=True)),
        trades=[(d[5], 7)],
    )
    seed.run("mean_reversion_v1", equity=[(d[0], 1000), (d[5], 5000)])  # moved to PAPER below
    client.post(
        "/v1/controls/mode-transition",
        json={"strategy_id": "mean_reversion_v1", "mode": "PAPER", "reason": "paper trial"},
        headers=admin.headers,
    ).raise_for_status()
    return admin


def test_the_summary_sums_latest_completed_runs_of_the_mode(
    client: TestClient, seed: Seeder
) -> None:
    viewer = _seed_two_strategies(client, seed)
    body = _summary(client, viewer, "?period=all&mode=BACKTEST")
    # forward-filled sum; buy_and_hold counts its first value (50) before it starts
    combined = [150, 160, 155, 175, 175, 190]
    assert [float(p["equity"]) for p in body["equity_curve"]] == combined  # type: ignore[union-attr]
    assert body["strategies"] == ["buy_and_hold", "momentum_v1"]
    assert (body["start_equity"], body["end_equity"], body["total_pnl"]) == ("150", "190", "40")
    assert math.isclose(body["total_return"], 40 / 150)  # type: ignore[arg-type]
    assert math.isclose(body["max_drawdown"], 5 / 160)  # type: ignore[arg-type]
    returns = [b / a - 1 for a, b in itertools.pairwise(combined)]
    sharpe = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(252)
    assert math.isclose(body["sharpe"], sharpe, rel_tol=1e-9)  # type: ignore[arg-type]
    assert (body["closed_trades"], body["win_rate"]) == (3, 2 / 3)


def test_the_period_cuts_the_window_ending_at_the_last_point(
    client: TestClient, seed: Seeder
) -> None:
    viewer = _seed_two_strategies(client, seed)
    body = _summary(client, viewer, "?period=1d")
    assert [float(p["equity"]) for p in body["equity_curve"]] == [175, 190]  # type: ignore[union-attr]
    assert body["total_pnl"] == "15"
    assert (body["closed_trades"], body["win_rate"], body["sharpe"]) == (1, 1.0, 0.0)


def test_paper_mode_never_shows_backtest_pnl(client: TestClient, seed: Seeder) -> None:
    viewer = _seed_two_strategies(client, seed)
    body = _summary(client, viewer, "?mode=PAPER")
    assert body["equity_curve"] == []
    assert body["total_pnl"] == "0"


def test_the_curve_is_downsampled_and_bad_parameters_are_422(
    client: TestClient, seed: Seeder
) -> None:
    viewer = _seed_two_strategies(client, seed)
    assert len(_summary(client, viewer, "?points=4")["equity_curve"]) <= 4  # type: ignore[arg-type]
    for query, field in (("?period=2y", "query.period"), ("?mode=SIM", "query.mode")):
        response = client.get(f"/v1/metrics/summary{query}", headers=viewer.headers)
        assert_error(response, 422, "validation_error", field=field)
