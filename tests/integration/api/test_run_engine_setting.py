"""POST /v1/runs: backtest.engine is stored with the run; compiled where impossible is a 422."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from quant_db.schema import Run
from quant_db.schema.identity import Role
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Person, Seeder


@pytest.fixture
def trader(seed: Seeder) -> Person:
    return seed.user("trader", Role.TRADER)


def _post(client: TestClient, person: Person, strategy: str = "momentum_v1", **body: Any) -> Any:
    return client.post("/v1/runs", json={"strategy_id": strategy, **body}, headers=person.headers)


def test_engine_setting_is_stored_with_the_run_auto_by_default(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    for sent, stored in ((None, "auto"), ("event", "event"), ("compiled", "compiled")):
        body = {} if sent is None else {"backtest": {"engine": sent}}
        response = _post(client, trader, **body)
        assert response.status_code == 202, response.text
        [(run,)] = seed.rows(select(Run).where(Run.id == uuid.UUID(response.json()["id"])))
        assert run.backtest_config["engine"] == stored


def test_engine_compiled_for_a_strategy_without_vector_form_is_422_naming_the_field(
    client: TestClient, seed: Seeder, trader: Person
) -> None:
    refused = _post(client, trader, "mean_reversion_v1", backtest={"engine": "compiled"})
    assert_error(refused, 422, "validation_error", field="body.backtest.engine")
    assert "MeanReversion has no vector_targets" in refused.text
    unknown = _post(client, trader, backtest={"engine": "turbo"})
    assert_error(unknown, 422, "validation_error", field="body.backtest.engine")
    assert seed.count("runs") == 0
