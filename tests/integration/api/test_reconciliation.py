"""GET /v1/reconciliation shows each account's last check with its broker and what differs;
POST /v1/reconciliation/{account}/resolve records an admin's decision on a blocked one, audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.reconciliation import save_reconciliation
from quant_db.schema import AuditEntry
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


DIFFERENCE = {
    "kind": "unknown_broker_order",
    "key": "prev-1",
    "broker": "buy 5 SP500",
    "ours": "none",
}


def _checked(seed: Seeder, account: str, state: ReconciliationState) -> None:
    async def store(session: AsyncSession) -> None:
        diff = {} if state is ReconciliationState.CLEAN else {"differences": [DIFFERENCE]}
        await save_reconciliation(session, account=account, state=state, diff=diff, at=AT)
        await session.commit()

    seed.call(store)


def test_an_admin_resolves_a_blocked_account_which_waits_pending_for_the_runner_audited(
    client: TestClient, seed: Seeder
) -> None:
    admin = seed.user("root", Role.ADMIN)
    _checked(seed, "paper", ReconciliationState.BLOCKED)
    response = client.post(
        "/v1/reconciliation/paper/resolve",
        json={"action": "flatten", "reason": "  start the day flat "},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("state", "resolution", "resolved_by", "reason")} == {
        "state": "pending",
        "resolution": "flatten",
        "resolved_by": "root",
        "reason": "start the day flat",
    }
    assert body["carried_out_at"] is None
    assert body["differences"] == [DIFFERENCE]  # what was decided on stays shown
    [listed] = client.get("/v1/reconciliation", headers=admin.headers).json()
    assert listed == body
    [(entry,)] = seed.rows(select(AuditEntry))
    assert (entry.action, entry.target_id, entry.user_id) == (
        "reconciliation.resolve",
        "paper",
        admin.id,
    )
    assert entry.detail["reason"] == "start the day flat"
    assert entry.detail["after"] == {"state": "pending", "resolution": "flatten"}
    assert entry.detail["via"] == "api"
    # decided once: a second decision waits for the runner to carry out the first
    again = client.post(
        "/v1/reconciliation/paper/resolve",
        json={"action": "adopt", "reason": "changed my mind"},
        headers=admin.headers,
    )
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "path.account"
    assert "pending, not blocked" in again.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "adopt"}, "body.reason"),
        ({"action": "adopt", "reason": ""}, "body.reason"),
        ({"action": "adopt", "reason": "   "}, "body.reason"),
        ({"action": "ignore", "reason": "why not"}, "body.action"),
        ({"reason": "why not"}, "body.action"),
        ({"action": "adopt", "reason": "ok", "force": True}, "body.force"),
    ],
)
def test_a_resolution_without_a_reason_or_a_known_action_is_refused_naming_the_field(
    client: TestClient, seed: Seeder, body: dict[str, object], field: str
) -> None:
    admin = seed.user("root", Role.ADMIN)
    _checked(seed, "paper", ReconciliationState.BLOCKED)
    response = client.post("/v1/reconciliation/paper/resolve", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    [listed] = client.get("/v1/reconciliation", headers=admin.headers).json()
    assert (listed["state"], listed["resolution"]) == ("blocked", None)  # nothing changed
    assert seed.rows(select(AuditEntry)) == []


def test_only_a_blocked_account_can_be_resolved(client: TestClient, seed: Seeder) -> None:
    admin = seed.user("root", Role.ADMIN)
    _checked(seed, "paper", ReconciliationState.CLEAN)
    decision = {"action": "adopt", "reason": "drill"}
    clean = client.post("/v1/reconciliation/paper/resolve", json=decision, headers=admin.headers)
    assert clean.status_code == 409
    assert "clean, not blocked" in clean.json()["error"]["message"]
    unknown = client.post(
        "/v1/reconciliation/alpaca-live/resolve", json=decision, headers=admin.headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "path.account"
    assert seed.rows(select(AuditEntry)) == []


def test_viewers_and_traders_cannot_resolve_and_change_nothing(
    client: TestClient, seed: Seeder
) -> None:
    _checked(seed, "paper", ReconciliationState.BLOCKED)
    decision = {"action": "adopt", "reason": "drill"}
    for role in (Role.VIEWER, Role.TRADER):
        person = seed.user(f"a-{role.value}", role)
        response = client.post(
            "/v1/reconciliation/paper/resolve", json=decision, headers=person.headers
        )
        assert response.status_code == 403
    assert client.post("/v1/reconciliation/paper/resolve", json=decision).status_code == 401
    viewer = seed.user("looker", Role.VIEWER)
    [listed] = client.get("/v1/reconciliation", headers=viewer.headers).json()
    assert (listed["state"], listed["resolution"], listed["resolved_by"]) == (
        "blocked",
        None,
        None,
    )
