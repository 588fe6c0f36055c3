"""The symbols catalogue and a run's prices: read from price_bars, bucketed on the server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus
from quant_ingestion import ingest
from quant_marketdata import SampleSource
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Person, Seeder

RUN_2010 = {
    "universe": ["SP500"],
    "benchmark": "GOOG",
    "timeframe": "1d",
    "start": "2009-06-01",
    "end": "2011-12-31",
}


@pytest.fixture
def viewer(seed: Seeder) -> Person:
    return seed.user("viewer", Role.VIEWER)


@pytest.fixture
def ingested(database_url: str) -> dict[str, pd.DataFrame]:
    """SP500 and GOOG from the samples, through the real ingestion path."""
    source = SampleSource()
    ingest(source, ["SP500", "GOOG"], database_url)
    return {symbol: source.get_bars(symbol) for symbol in ("SP500", "GOOG")}


def _db_run(seed: Seeder, **config: Any) -> uuid.UUID:
    return seed.run(
        config={**RUN_2010, **config},
        backtest_config={"start": "2010-01-01", "end": "2010-12-31"},
        repro={"data_source": "db"},
    )


def _expected(frame: pd.DataFrame, points: int) -> list[dict[str, float]]:
    """The same buckets computed here: bar k (0-based) of n goes to floor(k * points / n)."""
    n = len(frame)
    buckets = frame.groupby([k * points // n for k in range(n)])
    return [
        {
            "ts": group.index[0].timestamp(),
            "open": group["open"].iloc[0],
            "high": group["high"].max(),
            "low": group["low"].min(),
            "close": group["close"].iloc[-1],
            "volume": group["volume"].sum(),
        }
        for _, group in buckets
    ]


def _as_floats(bar: dict[str, Any]) -> dict[str, float]:
    out = {name: float(Decimal(bar[name])) for name in ("open", "high", "low", "close", "volume")}
    return {"ts": datetime.fromisoformat(bar["ts"]).timestamp(), **out}


def test_the_catalogue_lists_each_ingested_symbol_with_its_range_and_count(
    client: TestClient, viewer: Person, database_url: str
) -> None:
    assert client.get("/v1/symbols", headers=viewer.headers).json() == []
    source = SampleSource()
    ingest(source, ["SP500", "GOOG"], database_url)
    response = client.get("/v1/symbols", headers=viewer.headers)
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [(e["symbol"], e["timeframe"]) for e in listed] == [("GOOG", "1d"), ("SP500", "1d")]
    for entry in listed:
        frame = source.get_bars(entry["symbol"])
        assert entry["bar_count"] == len(frame)
        assert datetime.fromisoformat(entry["first_ts"]) == frame.index[0]
        assert datetime.fromisoformat(entry["last_ts"]) == frame.index[-1]


def test_prices_cover_the_runs_dates_merged_into_ohlcv_buckets(
    client: TestClient, seed: Seeder, viewer: Person, ingested: dict[str, pd.DataFrame]
) -> None:
    run_id = _db_run(seed)
    in_2010 = ingested["SP500"].loc["2010-01-01":"2010-12-31"]
    response = client.get(
        f"/v1/runs/{run_id}/prices?symbol=SP500&points=10", headers=viewer.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["symbol"], body["timeframe"], body["source"], body["note"]) == (
        "SP500",
        "1d",
        "database",
        None,
    )
    assert body["run_data_source"] == "db"
    assert datetime.fromisoformat(body["start"]) == datetime(2010, 1, 1, tzinfo=UTC)
    assert body["total_bars"] == len(in_2010) == 252
    got = [_as_floats(bar) for bar in body["bars"]]
    assert len(got) == 10
    for mine, theirs in zip(got, _expected(in_2010, 10), strict=True):
        assert mine == pytest.approx(theirs, rel=1e-9)
    assert isinstance(body["bars"][0]["close"], float)  # a JSON number, as every figure in the API


def test_with_fewer_bars_than_points_every_bar_comes_back_as_stored(
    client: TestClient, seed: Seeder, viewer: Person, ingested: dict[str, pd.DataFrame]
) -> None:
    run_id = _db_run(seed)
    response = client.get(
        f"/v1/runs/{run_id}/prices?symbol=GOOG&points=1000", headers=viewer.headers
    )
    body = response.json()
    in_2010 = ingested["GOOG"].loc["2010-01-01":"2010-12-31"]
    assert body["total_bars"] == len(body["bars"]) == len(in_2010)  # the benchmark is a symbol too
    for bar, expected in zip(body["bars"], _expected(in_2010, len(in_2010)), strict=True):
        assert _as_floats(bar) == pytest.approx(expected, rel=1e-12)


def test_a_symbol_outside_the_run_is_a_422_naming_it(
    client: TestClient, seed: Seeder, viewer: Person
) -> None:
    run_id = _db_run(seed)
    response = client.get(f"/v1/runs/{run_id}/prices?symbol=EURUSD", headers=viewer.headers)
    error = assert_error(response, 422, "validation_error", field="query.symbol")
    assert "SP500, GOOG" in error["message"]
    missing = client.get(f"/v1/runs/{run_id}/prices", headers=viewer.headers)
    assert_error(missing, 422, "validation_error", field="query.symbol")
    unknown = client.get(f"/v1/runs/{uuid.uuid4()}/prices?symbol=SP500", headers=viewer.headers)
    assert_error(unknown, 404, "not_found")


def test_a_run_that_read_files_has_no_prices_and_says_why(
    client: TestClient, seed: Seeder, viewer: Person, ingested: dict[str, pd.DataFrame]
) -> None:
    run_id = seed.run(config=RUN_2010, repro={"data_source": "samples"})
    body = client.get(f"/v1/runs/{run_id}/prices?symbol=SP500", headers=viewer.headers).json()
    assert (body["source"], body["run_data_source"], body["total_bars"], body["bars"]) == (
        "none",
        "samples",
        0,
        [],
    )
    assert "samples" in body["note"]


def test_a_queued_run_charts_what_the_database_holds_or_says_it_holds_nothing(
    client: TestClient, seed: Seeder, viewer: Person
) -> None:
    run_id = seed.run(status=RunStatus.QUEUED, config=RUN_2010)
    body = client.get(f"/v1/runs/{run_id}/prices?symbol=SP500", headers=viewer.headers).json()
    assert (body["source"], body["run_data_source"], body["bars"]) == ("none", None, [])
    assert "quant data ingest" in body["note"]
