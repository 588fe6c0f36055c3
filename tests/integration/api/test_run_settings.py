"""POST /v1/runs: dates outside the data are refused with the range that exists, and every
setting has one name (ADR 0019) while the old spellings still work and errors name what was sent."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from quant_db.schema import Run
from quant_db.schema.identity import Role
from quant_ingestion import ingest
from quant_marketdata import SampleSource, SyntheticSource
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Person, Seeder


@pytest.fixture
def trader(seed: Seeder) -> Person:
    return seed.user("trader", Role.TRADER)


def _post(client: TestClient, person: Person, **body: Any) -> Any:
    return client.post(
        "/v1/runs", json={"strategy_id": "momentum_v1", **body}, headers=person.headers
    )


def _stored(seed: Seeder, response: Any) -> Run:
    assert response.status_code == 202, response.text
    [(run,)] = seed.rows(select(Run).where(Run.id == uuid.UUID(response.json()["id"])))
    return run


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"start": "2019-06-03"},
            "body.start",
            "no SP500 bars on or after 2019-06-03: SP500 has bars from 1999-01-04 to 2018-12-31",
        ),
        (
            {"end": "1995-01-03"},
            "body.end",
            "no SP500 bars on or before 1995-01-03: SP500 has bars from 1999-01-04 to 2018-12-31",
        ),
        (
            {"universe": ["SP500", "GOOG"], "start": "2014-01-02"},
            "body.start",
            "no GOOG bars on or after 2014-01-02: GOOG has bars from 2004-08-19 to 2013-03-01; "
            "the range all of SP500, GOOG have is 2004-08-19 to 2013-03-01",
        ),
    ],
)
def test_dates_outside_the_sample_data_are_refused_with_the_range_that_exists(
    client: TestClient,
    seed: Seeder,
    trader: Person,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    error = assert_error(_post(client, trader, **body), 422, "validation_error", field=field)
    assert error["message"] == message
    assert seed.count("runs") == 0


def test_dates_are_judged_by_the_database_catalogue_when_the_run_reads_it(
    client: TestClient, seed: Seeder, trader: Person, database_url: str
) -> None:
    ingest(SyntheticSource(seed=2, n_symbols=1, n_bars=300, decimals=4), ["SYN000"], database_url)
    ingest(SampleSource(), ["SP500"], database_url)  # the benchmark, so the run reads the database
    refused = _post(client, trader, universe=["SYN000"], start="2001-03-01")
    error = assert_error(refused, 422, "validation_error", field="body.start")
    assert "SYN000 has bars from 2000-01-03 to 2001-02-23" in error["message"]
    accepted = _post(client, trader, universe=["SYN000"], start="2000-06-01", end="2001-02-23")
    assert _stored(seed, accepted).config["universe"] == ["SYN000"]


def test_the_strategys_own_dates_outside_the_data_say_where_they_come_from(
    client: TestClient, trader: Person
) -> None:
    # xsec_momentum_v1 stores start 2004-08-19 and end 2013-03-01; the EURUSD sample begins in 2017
    refused = client.post(
        "/v1/runs",
        json={"strategy_id": "xsec_momentum_v1", "universe": ["EURUSD"]},
        headers=trader.headers,
    )
    error = assert_error(refused, 422, "validation_error", field="body.end")
    assert error["message"].startswith("no EURUSD bars on or before 2013-03-01: EURUSD has bars")
    assert error["message"].endswith("(the strategy's end; send end to change it)")


def test_the_canonical_names_are_stored_under_the_same_names(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    response = _post(
        client,
        trader,
        universe=["NASDAQ"],
        start="2010-01-04",
        end="2012-12-31",
        backtest={
            "initial_capital": "250000",
            "commission_per_trade": "0.5",
            "sizing": {"mode": "fixed", "quantity": 10},
            "periods_per_year": 260,
            "risk_free_rate": 0.02,
            "seed": 7,
        },
    )
    run = _stored(seed, response)
    assert run.config["universe"] == ["NASDAQ"]
    bt = run.backtest_config
    assert (bt["initial_capital"], bt["commission_per_trade"]) == ("250000", "0.5")
    assert (bt["sizing"]["mode"], bt["sizing"]["quantity"]) == ("fixed", "10")
    assert (bt["periods_per_year"], bt["risk_free_rate"], bt["seed"]) == (260.0, 0.02, 7)


def test_the_old_names_are_still_accepted(client: TestClient, seed: Seeder, trader: Person) -> None:
    response = _post(
        client, trader, symbols=["NASDAQ"], backtest={"capital": "50000", "commission": 0}
    )
    run = _stored(seed, response)
    assert run.config["universe"] == ["NASDAQ"]
    assert (
        run.backtest_config["initial_capital"],
        run.backtest_config["commission_per_trade"],
    ) == (
        "50000",
        "0",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"backtest": {"capital": 0}}, "body.backtest.capital"),
        ({"backtest": {"initial_capital": 0}}, "body.backtest.initial_capital"),
        ({"backtest": {"commission": -1}}, "body.backtest.commission"),
        ({"backtest": {"commission_per_trade": -1}}, "body.backtest.commission_per_trade"),
        ({"backtest": {"capital": 1, "initial_capital": 2}}, "body.backtest"),
        ({"universe": ["SP 500"]}, "body.universe.0"),
        ({"symbols": ["SP 500"]}, "body.symbols.0"),
        ({"universe": ["SP500", "ZZZZ"]}, "body.universe"),
        ({"symbols": ["SP500", "ZZZZ"]}, "body.symbols"),
        ({"universe": ["SP500"], "symbols": ["SP500"]}, "body"),
        ({"backtest": {"sizing": {"mode": "fixed", "quantity": 2.5}}}, "body.backtest.sizing"),
        ({"backtest": {"sizing": {"fraction": 0}}}, "body.backtest.sizing.fraction"),
        ({"backtest": {"risk_free_rate": 2}}, "body.backtest.risk_free_rate"),
    ],
)
def test_an_error_names_the_field_as_the_client_sent_it(
    client: TestClient, seed: Seeder, trader: Person, body: dict[str, Any], field: str
) -> None:
    assert_error(_post(client, trader, **body), 422, "validation_error", field=field)
    assert seed.count("runs") == 0


def test_commission_rounding_is_stored_and_a_bad_value_names_the_field(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    run = _stored(seed, _post(client, trader, backtest={"commission_rounding": "none"}))
    assert run.backtest_config["commission_rounding"] == "none"
    default = _stored(seed, _post(client, trader))
    assert default.backtest_config["commission_rounding"] == "cent"
    refused = _post(client, trader, backtest={"commission_rounding": "tenth"})
    assert_error(refused, 422, "validation_error", field="body.backtest.commission_rounding")
