"""GET /v1/reconciliation shows each account's last check with its broker and what differs."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.reconciliation import save_reconciliation
from quant_db.schema.execution import ReconciliationState
from quant_db.schema.identity import Role
from tests.integration.api.seed import Seeder

AT = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)


def test_no_account_is_listed_before_any_check(client: TestClient, seed: Seeder) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    response = client.get("/v1/reconciliation", headers=viewer.headers)
    assert (response.status_code, response.json()) == (200, [])


def test_a_blocked_account_shows_each_difference_and_a_clean_one_none(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    run_id = seed.run()
    difference = {
        "kind": "position_mismatch",
        "key": "SP500",
        "broker": "10",
        "ours": "0",
    }

    async def store(session: AsyncSession) -> None:
        await save_reconciliation(
            session,
            account="paper",
            state=ReconciliationState.BLOCKED,
            diff={"differences": [difference]},
            at=AT,
            run_id=run_id,
        )
        await save_reconciliation(
            session, account="alpaca-paper", state=ReconciliationState.CLEAN, diff={}, at=AT
        )
        await session.commit()

    seed.call(store)
    listing = client.get("/v1/reconciliation", headers=viewer.headers).json()
    assert [(a["account"], a["state"]) for a in listing] == [
        ("alpaca-paper", "clean"),
        ("paper", "blocked"),
    ]
    assert listing[0]["differences"] == []
    assert listing[1]["differences"] == [difference]
    assert listing[1]["run_id"] == str(run_id)


def test_reading_it_needs_a_sign_in(client: TestClient) -> None:
    assert client.get("/v1/reconciliation").status_code == 401
