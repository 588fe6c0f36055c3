"""`quant kill-switch`: the break-glass path straight to the database, audited like the API's."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from quant_cli.kill_switch_cmd import kill_switch_app
from quant_db.schema import AuditEntry
from quant_db.schema.identity import Role
from quant_db.settings import get_settings as storage_settings
from tests.integration.api.seed import Seeder

CLI = tuple[typer.Typer, dict[str, str]]


@pytest.fixture
def cli(database_url: str) -> Iterator[CLI]:
    app = typer.Typer()
    app.add_typer(kill_switch_app, name="kill-switch")
    with socket.socket() as probe:  # Redis is down: the command must not need it
        probe.bind(("127.0.0.1", 0))
        dead_redis = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    storage_settings.cache_clear()
    yield app, {"DATABASE_URL": database_url, "REDIS_URL": dead_redis}
    storage_settings.cache_clear()


def test_an_admin_engages_and_releases_it_from_the_shell_and_the_api_sees_it(
    cli: CLI, client: TestClient, seed: Seeder
) -> None:
    app, env = cli
    seed.user("ops", Role.ADMIN)
    viewer = seed.user("viewer", Role.VIEWER)
    runner = CliRunner()
    engaged = runner.invoke(
        app,
        ["kill-switch", "engage", "--reason", "API down, broker misbehaving", "--user", "ops"],
        env=env,
    )
    assert engaged.exit_code == 0, engaged.output
    assert "ENGAGED" in engaged.stdout
    state = client.get("/v1/controls/kill-switch", headers=viewer.headers).json()
    assert (state["mode"], state["engaged"], state["reason"], state["changed_by"]) == (
        "halt_entries",
        True,
        "API down, broker misbehaving",
        "ops",
    )
    status = runner.invoke(app, ["kill-switch", "status"], env=env)
    assert status.exit_code == 0
    assert status.stdout.startswith("ENGAGED, halt_entries: orders that open or grow")
    assert "by ops" in status.stdout

    released = runner.invoke(
        app, ["kill-switch", "release", "--reason", "all clear", "--user", "ops"], env=env
    )
    assert released.exit_code == 0, released.output
    assert client.get("/v1/controls/kill-switch", headers=viewer.headers).json()["engaged"] is False
    entries = [row[0] for row in seed.rows(select(AuditEntry).order_by(AuditEntry.id))]
    assert [e.action for e in entries] == ["kill_switch.set_mode", "kill_switch.set_mode"]
    assert all(e.detail["via"].startswith("cli") for e in entries)
    assert all(e.request_id.startswith("cli-") for e in entries)
    assert entries[0].detail["after"] == {
        "mode": "halt_entries",
        "reason": "API down, broker misbehaving",
    }
    assert entries[1].detail["after"] == {"mode": "active", "reason": "all clear"}


@pytest.mark.parametrize(
    ("mode", "engaged", "says"),
    [
        ("reduce_only", True, "ENGAGED, reduce_only: only orders that reduce a position pass"),
        ("flatten_and_halt", True, "ENGAGED, flatten_and_halt: working orders are cancelled"),
        ("active", False, "active: orders pass the other risk rules"),
    ],
)
def test_an_admin_sets_a_mode_from_the_shell_and_the_change_is_audited(
    cli: CLI, client: TestClient, seed: Seeder, mode: str, engaged: bool, says: str
) -> None:
    app, env = cli
    seed.user("ops", Role.ADMIN)
    viewer = seed.user("viewer", Role.VIEWER)
    runner = CliRunner()
    result = runner.invoke(
        app, ["kill-switch", "set-mode", mode, "--reason", "drill", "--user", "ops"], env=env
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(says)
    state = client.get("/v1/controls/kill-switch", headers=viewer.headers).json()
    assert (state["mode"], state["engaged"], state["changed_by"]) == (mode, engaged, "ops")
    [(entry,)] = seed.rows(select(AuditEntry))
    assert entry.detail["before"] == {"mode": "active", "reason": ""}
    assert entry.detail["after"] == {"mode": mode, "reason": "drill"}
    assert runner.invoke(app, ["kill-switch", "status"], env=env).stdout.startswith(says)


def test_an_unknown_mode_is_exit_2_naming_it_and_changes_nothing(
    cli: CLI, client: TestClient, seed: Seeder
) -> None:
    app, env = cli
    seed.user("ops", Role.ADMIN)
    viewer = seed.user("viewer", Role.VIEWER)
    result = CliRunner().invoke(
        app, ["kill-switch", "set-mode", "paused", "--reason", "x", "--user", "ops"], env=env
    )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: MODE: 'paused' is not a kill-switch mode; "
        "choose active, halt_entries, reduce_only, flatten_and_halt"
    ]
    assert client.get("/v1/controls/kill-switch", headers=viewer.headers).json()["mode"] == "active"
    assert seed.count("audit_log") == 0


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--reason", "x", "--user", "viewer"], "error: --user: 'viewer' is not an active admin"),
        (["--reason", "x", "--user", "gone"], "error: --user: 'gone' is not an active admin"),
        (["--reason", "x", "--user", "retired"], "error: --user: 'retired' is not an active admin"),
        (
            ["--reason", "   ", "--user", "ops"],
            "error: --reason: say why (it is recorded with the change)",
        ),
    ],
)
@pytest.mark.parametrize(
    "command", [["kill-switch", "engage"], ["kill-switch", "set-mode", "flatten_and_halt"]]
)
def test_a_change_without_an_active_admin_or_a_reason_is_exit_2_and_changes_nothing(
    cli: CLI, client: TestClient, seed: Seeder, command: list[str], args: list[str], line: str
) -> None:
    app, env = cli
    seed.user("ops", Role.ADMIN)
    seed.user("retired", Role.ADMIN, active=False)
    viewer = seed.user("viewer", Role.VIEWER)
    result = CliRunner().invoke(app, [*command, *args], env=env)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [line]
    assert client.get("/v1/controls/kill-switch", headers=viewer.headers).json()["engaged"] is False
    assert seed.count("audit_log") == 0
