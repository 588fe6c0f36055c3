"""The risk policy through the API and the CLI: admin-only changes with a reason, versioned and
audited with the old and new values; the breakers' state and a re-arm."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from quant_cli.risk_cmd import risk_app
from quant_db import controls, risk
from quant_db.schema import AuditEntry
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from quant_db.settings import get_settings as storage_settings
from quant_domain import KillSwitchMode
from quant_engine.breakers import Breakers
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Seeder

DEFAULT = Path(__file__).resolve().parents[3] / "configs" / "risk" / "default.yaml"
POLICY: dict[str, Any] = {
    "account": {"daily_loss_limit": 0.02, "max_drawdown": 0.08, "max_positions": 6},
    "strategies": {"momentum_v1": {"budget": "50000", "max_positions": 3}},
}
CLI = tuple[typer.Typer, dict[str, str]]


@pytest.fixture
def cli(database_url: str) -> Iterator[CLI]:
    app = typer.Typer()
    app.add_typer(risk_app, name="risk")
    with socket.socket() as probe:  # Redis is down: show, apply and rearm must not need it
        probe.bind(("127.0.0.1", 0))
        dead_redis = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    storage_settings.cache_clear()
    yield app, {"DATABASE_URL": database_url, "REDIS_URL": dead_redis}
    storage_settings.cache_clear()


def test_policy_change_by_a_non_admin_is_403_and_changes_nothing(
    client: TestClient, seed: Seeder
) -> None:
    trader = seed.user("trader", Role.TRADER)
    body = {"policy": POLICY, "reason": "looser"}
    assert_error(client.put("/v1/risk/policy", json=body, headers=trader.headers), 403, "forbidden")
    rearm = client.post("/v1/risk/rearm", json={"reason": "go"}, headers=trader.headers)
    assert_error(rearm, 403, "forbidden")
    assert client.get("/v1/risk", headers=trader.headers).json()["policy"] is None
    assert seed.count("risk_policies") == 0
    assert seed.count("audit_log") == 0


def test_each_policy_change_is_versioned_and_audited_with_old_and_new_values(
    client: TestClient, seed: Seeder
) -> None:
    admin = seed.user("ops", Role.ADMIN)
    first = client.put(
        "/v1/risk/policy", json={"policy": POLICY, "reason": "initial"}, headers=admin.headers
    )
    assert first.status_code == 200, first.text
    assert (first.json()["version"], first.json()["applied_by"]) == (1, "ops")
    tighter = {**POLICY, "account": {**POLICY["account"], "max_drawdown": 0.06}}
    second = client.put(
        "/v1/risk/policy", json={"policy": tighter, "reason": "after review"}, headers=admin.headers
    )
    assert second.json()["version"] == 2
    entries = [row[0] for row in seed.rows(select(AuditEntry).order_by(AuditEntry.id))]
    assert [e.action for e in entries] == ["risk.policy", "risk.policy"]
    assert entries[0].detail["before"] is None
    change = entries[1].detail
    assert change["before"]["version"] == 1
    assert change["before"]["policy"]["account"]["max_drawdown"] == 0.08
    assert change["after"]["policy"]["account"]["max_drawdown"] == 0.06
    assert (change["username"], change["reason"], change["via"]) == ("ops", "after review", "api")
    view = client.get("/v1/risk", headers=admin.headers).json()
    assert view["policy"]["version"] == 2
    assert view["policy"]["policy"]["account"]["max_drawdown"] == 0.06
    limits = {item["name"]: item for item in view["limits"]}
    assert limits["account.max_drawdown"]["limit"] == 0.06
    assert limits["account.max_drawdown"]["current"] is None  # nothing evaluated yet
    assert limits["strategies.momentum_v1.max_positions"]["limit"] == 3
    budget = limits["strategies.momentum_v1.budget"]
    assert (budget["limit"], budget["unit"], budget["current"]) == (50_000, "money", None)
    assert view["breakers"]["kill_switch"] == "active"


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"account": {"max_drawdown": 0.5}}, "body.policy.account.max_drawdown"),
        ({"account": {"max_positions": 30}}, "body.policy.account.max_positions"),
        ({"account": {"calendar": "MOON"}}, "body.policy.account.calendar"),
        (
            {"strategies": {"momentum_v1": {"budget": -5}}},
            "body.policy.strategies.momentum_v1.budget",
        ),
        ({"acount": {}}, "body.policy.acount"),
    ],
)
def test_a_bad_policy_is_a_422_naming_the_field(
    client: TestClient, seed: Seeder, policy: dict[str, Any], field: str
) -> None:
    admin = seed.user("ops", Role.ADMIN)
    response = client.put(
        "/v1/risk/policy", json={"policy": policy, "reason": "x"}, headers=admin.headers
    )
    assert_error(response, 422, "validation_error", field=field)
    assert seed.count("risk_policies") == 0


def test_risk_view_shows_a_tripped_breaker_its_history_and_exposure_and_rearm_lifts_it(
    client: TestClient, seed: Seeder
) -> None:
    admin = seed.user("ops", Role.ADMIN)
    viewer = seed.user("viewer", Role.VIEWER)
    client.put("/v1/risk/policy", json={"policy": POLICY, "reason": "x"}, headers=admin.headers)
    start = datetime(2024, 1, 2, tzinfo=UTC)
    seed.run(
        status=RunStatus.RUNNING,
        run_type=RunType.PAPER,
        equity=[(start, 100_000.0), (start + timedelta(days=1), 91_000.0)],
    )

    async def trip(session: AsyncSession) -> None:  # what the risk service stores on a trip
        breakers = Breakers(0.02, 0.08)
        breakers.observe(start, 100_000.0, 1)
        trips = breakers.observe(start + timedelta(days=1), 91_000.0, 2)
        row = await risk.risk_state(session, for_update=True)
        risk.save_state(
            row, {"breakers": breakers.state.to_json(), "trips": [t.to_json() for t in trips]}
        )
        await controls.set_kill_switch_mode(
            session,
            user=None,
            mode=KillSwitchMode.FLATTEN_AND_HALT,
            reason=trips[-1].message(),
            request_id="risk:drawdown",
            via="risk",
        )
        await session.commit()

    seed.call(trip)
    view = client.get("/v1/risk", headers=viewer.headers).json()
    breakers = view["breakers"]
    assert (breakers["kill_switch"], breakers["drawdown"], breakers["daily_loss"]) == (
        "flatten_and_halt",
        "latched",
        "tripped",
    )
    assert breakers["drawdown_value"] == pytest.approx(0.09)
    assert [t["rule"] for t in breakers["trips"]] == ["daily_loss", "drawdown"]
    limits = {item["name"]: item for item in view["limits"]}
    assert limits["account.max_drawdown"]["breached"] is True
    assert limits["account.daily_loss_limit"]["current"] == pytest.approx(0.09)
    assert view["history"][0]["mode"] == "flatten_and_halt"
    assert view["history"][0]["changed_by"] is None
    assert view["history"][0]["via"] == "risk"
    assert view["strategies"]["momentum_v1"]["equity"] == 91_000.0
    assert view["exposure"]["equity"] == 91_000.0

    blank = client.post("/v1/risk/rearm", json={"reason": " "}, headers=admin.headers)
    assert_error(blank, 422, "validation_error", field="body.reason")
    rearmed = client.post("/v1/risk/rearm", json={"reason": "reviewed"}, headers=admin.headers)
    assert rearmed.status_code == 200, rearmed.text
    assert (rearmed.json()["kill_switch"], rearmed.json()["drawdown"]) == ("active", "armed")
    entry = seed.rows(select(AuditEntry).where(AuditEntry.action == "risk.rearm"))[0][0]
    assert entry.detail["before"]["breakers"]["latched"] is True
    assert entry.detail["after"]["breakers"]["latched"] is False
    assert entry.detail["username"] == "ops"
    again = client.get("/v1/risk", headers=viewer.headers).json()
    assert (again["breakers"]["kill_switch"], again["breakers"]["drawdown"]) == ("active", "armed")
    assert again["history"][0]["mode_before"] == "flatten_and_halt"


def test_cli_apply_refuses_a_bad_file_in_one_line_and_applies_a_good_one(
    cli: CLI, seed: Seeder, tmp_path: Path
) -> None:
    app, env = cli
    seed.user("ops", Role.ADMIN)
    seed.user("viewer", Role.VIEWER)
    bad = tmp_path / "bad.yaml"
    bad.write_text("account:\n  max_positions: 10\n  max_drawdown: 0.3\n")
    runner = CliRunner()
    refused = runner.invoke(
        app, ["risk", "apply", str(bad), "--reason", "x", "--user", "ops"], env=env
    )
    assert refused.exit_code == 2
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {bad}:3: account.max_drawdown: ")
    not_admin = runner.invoke(
        app, ["risk", "apply", str(DEFAULT), "--reason", "x", "--user", "viewer"], env=env
    )
    assert not_admin.exit_code == 2
    assert "'viewer' is not an active admin" in not_admin.output
    applied = runner.invoke(
        app, ["risk", "apply", str(DEFAULT), "--reason", "initial", "--user", "ops"], env=env
    )
    assert applied.exit_code == 0, applied.output
    assert "risk policy version 1 in force" in applied.stdout
    shown = runner.invoke(app, ["risk", "show"], env=env)
    assert shown.exit_code == 0
    assert '"max_drawdown": 0.1' in shown.stdout
    rearmed = runner.invoke(app, ["risk", "rearm", "--reason", "drill", "--user", "ops"], env=env)
    assert rearmed.exit_code == 0, rearmed.output
    assert "kill switch active -> active" in rearmed.stdout
    entries = [row[0] for row in seed.rows(select(AuditEntry).order_by(AuditEntry.id))]
    assert [e.action for e in entries] == ["risk.policy", "risk.rearm"]
    assert entries[0].detail["after"]["policy"]["account"]["max_drawdown"] == 0.1
    assert entries[0].detail["via"].startswith("cli")
