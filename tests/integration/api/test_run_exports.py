"""CSV exports: every trade and every equity point of a run, streamed, with a proper file name."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import START, Person, Seeder


@pytest.fixture
def viewer(seed: Seeder) -> Person:
    return seed.user("viewer", Role.VIEWER)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_equity_export_is_the_full_series_not_the_downsampled_curve(
    client: TestClient, seed: Seeder, viewer: Person
) -> None:
    stamps = [START + timedelta(hours=i) for i in range(5_003)]  # more than a chunk of 2,000
    run = seed.run(equity=[(t, 100_000 + i) for i, t in enumerate(stamps)])
    response = client.get(f"/v1/runs/{run}/equity.csv", headers=viewer.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="momentum_v1_{str(run)[:8]}_equity.csv"'
    )
    rows = _rows(response.text)
    assert len(rows) == 5_003
    assert list(rows[0]) == ["ts", "equity", "cash", "positions_value", "gross_exposure"]
    assert rows[0]["ts"] == stamps[0].isoformat()
    # plain decimals, never an exponent (asyncpg reads 100000 as 1.0E+5)
    assert (rows[0]["equity"], rows[-1]["equity"]) == ("100000", "105002")
    assert [Decimal(r["equity"]) for r in rows] == [Decimal(100_000 + i) for i in range(5_003)]
    downsampled = client.get(f"/v1/runs/{run}/equity?points=500", headers=viewer.headers)
    assert len(downsampled.json()["points"]) <= 500


def test_the_trades_export_lists_every_trade_by_entry_time(
    client: TestClient, seed: Seeder, viewer: Person
) -> None:
    exits = [START + timedelta(days=i + 1) for i in range(600)]  # more than a page of 500
    run = seed.run(trades=[(t, (-1) ** i * 2.5) for i, t in enumerate(exits)])
    response = client.get(f"/v1/runs/{run}/trades.csv", headers=viewer.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].endswith(f'_{str(run)[:8]}_trades.csv"')
    rows = _rows(response.text)
    assert len(rows) == 600
    assert list(rows[0]) == [
        "trade_id",
        "symbol",
        "direction",
        "quantity",
        "entry_time",
        "entry_price",
        "exit_time",
        "exit_price",
        "gross_pnl",
        "commission",
        "pnl",
        "bars_held",
        "mfe",
        "mae",
        "given_back",
        "regime",
    ]
    assert [r["entry_time"] for r in rows] == sorted(r["entry_time"] for r in rows)
    assert (rows[0]["pnl"], rows[1]["pnl"], rows[0]["exit_price"]) == ("2.5", "-2.5", "102.5")


def test_a_run_without_results_is_a_409_and_an_unknown_run_a_404(
    client: TestClient, seed: Seeder, viewer: Person
) -> None:
    queued = seed.run(status=RunStatus.QUEUED)
    for series in ("trades", "equity"):
        response = client.get(f"/v1/runs/{queued}/{series}.csv", headers=viewer.headers)
        assert_error(response, 409, "conflict")
        missing = "00000000-0000-0000-0000-000000000000"
        response = client.get(f"/v1/runs/{missing}/{series}.csv", headers=viewer.headers)
        assert_error(response, 404, "not_found")
        assert_error(client.get(f"/v1/runs/{queued}/{series}.csv"), 401, "not_authenticated")


def test_a_completed_run_with_no_trades_exports_only_the_header(
    client: TestClient, seed: Seeder, viewer: Person
) -> None:
    run = seed.run()
    response = client.get(f"/v1/runs/{run}/trades.csv", headers=viewer.headers)
    assert response.text.splitlines() == [
        "trade_id,symbol,direction,quantity,entry_time,entry_price,exit_time,exit_price,"
        "gross_pnl,commission,pnl,bars_held,mfe,mae,given_back,regime"
    ]
