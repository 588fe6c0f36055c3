"""`quant users create`: a user who can sign in; a taken name or a bad role is exit 2, one line."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2 as httpx
import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from quant_api.settings import get_settings as api_settings
from quant_cli.api_cmd import users_app
from quant_db.schema import AuditEntry
from quant_db.settings import get_settings as storage_settings
from tests.integration.api.seed import Seeder


@pytest.fixture
def cli(database_url: str) -> Iterator[tuple[typer.Typer, dict[str, str]]]:
    app = typer.Typer()
    app.add_typer(users_app, name="users")
    env = {
        "DATABASE_URL": database_url,
        "QUANT_PASSWORD": "s3cret-enough",
        "QUANT_PASSWORD_TIME_COST": "1",  # TOOLCHAIN P14: a cheap argon2 in tests
        "QUANT_PASSWORD_MEMORY_COST": "8192",
        "QUANT_PASSWORD_PARALLELISM": "1",
    }
    storage_settings.cache_clear()
    api_settings.cache_clear()
    yield app, env
    storage_settings.cache_clear()
    api_settings.cache_clear()


def test_a_created_user_can_sign_in_and_a_duplicate_is_refused(
    cli: tuple[typer.Typer, dict[str, str]], client: TestClient
) -> None:
    app, env = cli
    runner = CliRunner()
    args = ["users", "create", "--username", "carol", "--role", "trader"]
    created = runner.invoke(app, args, env=env)
    assert created.exit_code == 0, created.output
    assert "created trader 'carol'" in created.stdout
    login = client.post("/v1/auth/login", json={"username": "carol", "password": "s3cret-enough"})
    assert login.status_code == 200, login.text

    again = runner.invoke(app, args, env=env)
    assert again.exit_code == 2
    assert again.stderr.strip().splitlines() == ["error: user 'carol' already exists"]


def test_a_bad_role_or_a_short_password_is_exit_2(cli: tuple[typer.Typer, dict[str, str]]) -> None:
    app, env = cli
    runner = CliRunner()
    bad_role = runner.invoke(
        app, ["users", "create", "--username", "dave", "--role", "boss"], env=env
    )
    assert bad_role.exit_code == 2
    assert "--role" in bad_role.stderr
    short = runner.invoke(
        app,
        ["users", "create", "--username", "dave", "--role", "viewer", "--password", "short"],
        env=env,
    )
    assert short.exit_code == 2
    assert short.stderr.strip() == "error: password: at least 8 characters"


def _run(cli: tuple[typer.Typer, dict[str, str]], *args: str) -> Result:
    app, env = cli
    return CliRunner().invoke(app, ["users", *args], env=env)


def _login(client: TestClient, username: str, password: str = "s3cret-enough") -> httpx.Response:
    return client.post("/v1/auth/login", json={"username": username, "password": password})


def _audit(client: TestClient) -> list[AuditEntry]:
    return [row[0] for row in Seeder(client).rows(select(AuditEntry).order_by(AuditEntry.id))]


def test_deactivating_a_user_ends_their_sessions_at_once_and_is_audited(
    cli: tuple[typer.Typer, dict[str, str]], client: TestClient
) -> None:
    assert _run(cli, "create", "--username", "erin", "--role", "trader").exit_code == 0
    session = _login(client, "erin").json()
    off = _run(cli, "deactivate", "--username", "erin")
    assert off.exit_code == 0, off.output
    assert off.stdout.strip() == "'erin' deactivated; 1 refresh token(s) revoked"
    # the same answer as a wrong password: signing in never confirms one (ADR 0016)
    assert _login(client, "erin").json()["error"]["code"] == "invalid_credentials"
    refresh = client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert refresh.status_code == 401
    # the access token of that sign-in stops working at once, for writes and reads alike
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    assert client.get("/v1/auth/me", headers=bearer).status_code == 401
    listed = _run(cli, "list").stdout
    assert "erin" in listed
    assert "DEACTIVATED" in listed

    on = _run(cli, "activate", "--username", "erin")
    assert on.exit_code == 0, on.output
    assert _login(client, "erin").status_code == 200
    refresh = client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert refresh.status_code == 401  # reactivation does not revive the old sign-in
    [off_entry, on_entry] = _audit(client)
    assert (off_entry.action, on_entry.action) == ("user.deactivate", "user.activate")
    assert off_entry.user_id is None
    assert off_entry.detail["target"] == "erin"
    assert off_entry.detail["via"].startswith("cli (")
    assert off_entry.request_id is not None
    assert off_entry.request_id.startswith("cli-")


def test_a_new_role_applies_to_the_next_sign_in_and_is_audited(
    cli: tuple[typer.Typer, dict[str, str]], client: TestClient
) -> None:
    assert _run(cli, "create", "--username", "finn", "--role", "viewer").exit_code == 0
    changed = _run(cli, "set-role", "--username", "finn", "--role", "admin")
    assert changed.exit_code == 0, changed.output
    assert changed.stdout.strip() == "'finn': viewer -> admin"
    token = _login(client, "finn").json()["access_token"]
    me = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "admin"
    [entry] = _audit(client)
    assert (entry.action, entry.detail["before"], entry.detail["after"]) == (
        "user.role",
        "viewer",
        "admin",
    )


def test_a_new_password_replaces_the_old_one_and_ends_its_sign_ins(
    cli: tuple[typer.Typer, dict[str, str]], client: TestClient
) -> None:
    assert _run(cli, "create", "--username", "gail", "--role", "viewer").exit_code == 0
    old = _login(client, "gail").json()
    app, env = cli
    changed = CliRunner().invoke(
        app,
        ["users", "set-password", "--username", "gail"],
        env={**env, "QUANT_PASSWORD": "another-long-one"},
    )
    assert changed.exit_code == 0, changed.output
    assert _login(client, "gail").status_code == 401
    assert _login(client, "gail", "another-long-one").status_code == 200
    refresh = client.post("/v1/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert refresh.status_code == 401
    assert [e.action for e in _audit(client)] == ["user.password"]
    assert "another-long-one" not in str(_audit(client)[0].detail)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["deactivate", "--username", "nobody"], "error: --username: no user 'nobody'"),
        (
            ["set-role", "--username", "nobody", "--role", "admin"],
            "error: --username: no user 'nobody'",
        ),
        (
            ["set-password", "--username", "nobody", "--password", "short"],
            "error: password: at least 8 characters",
        ),
    ],
)
def test_a_user_change_that_cannot_be_made_is_exit_2_and_changes_nothing(
    cli: tuple[typer.Typer, dict[str, str]], client: TestClient, args: list[str], line: str
) -> None:
    result = _run(cli, *args)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [line]
    assert _audit(client) == []
