"""`quant users create`: a user who can sign in; a taken name or a bad role is exit 2, one line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from quant_api.settings import get_settings as api_settings
from quant_cli.api_cmd import users_app
from quant_db.settings import get_settings as storage_settings


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
