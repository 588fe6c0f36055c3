"""Who may cancel a run: the trader who queued it, or an admin (ADR 0016)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Seeder


def test_a_trader_cannot_cancel_another_traders_run_and_nothing_changes(
    client: TestClient, seed: Seeder
) -> None:
    owner, other = seed.user("owner", Role.TRADER), seed.user("other", Role.TRADER)
    run = seed.run(status=RunStatus.QUEUED, created_by=owner.id)
    refused = client.post(f"/v1/runs/{run}/cancel", headers=other.headers)
    error = assert_error(refused, 403, "forbidden")
    assert "only its creator or an admin" in error["message"]
    assert client.get(f"/v1/runs/{run}", headers=owner.headers).json()["status"] == "queued"
    mine = client.post(f"/v1/runs/{run}/cancel", headers=owner.headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["status"] == "cancelled"


def test_an_admin_may_cancel_any_run_even_one_queued_from_the_command_line(
    client: TestClient, seed: Seeder
) -> None:
    admin, trader = seed.user("root", Role.ADMIN), seed.user("ana", Role.TRADER)
    theirs = seed.run(status=RunStatus.RUNNING, created_by=trader.id)
    nobodys = seed.run(status=RunStatus.QUEUED)  # `quant up --demo` queues runs with no creator
    assert_error(
        client.post(f"/v1/runs/{nobodys}/cancel", headers=trader.headers), 403, "forbidden"
    )
    for run in (theirs, nobodys):
        answer = client.post(f"/v1/runs/{run}/cancel", headers=admin.headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["cancel_requested"] is True
