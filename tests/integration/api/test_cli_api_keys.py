"""`quant api-keys`: create (the key printed once), list, revoke, straight in the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from quant_cli.api_keys_cmd import api_keys_app
from quant_db.schema import AuditEntry
from quant_db.schema.identity import Role
from quant_db.settings import get_settings as storage_settings
from tests.integration.api.seed import Seeder


@pytest.fixture
def cli(database_url: str) -> Iterator[tuple[typer.Typer, dict[str, str]]]:
    app = typer.Typer()
    app.add_typer(api_keys_app, name="api-keys")
    storage_settings.cache_clear()
    yield app, {"DATABASE_URL": database_url}
    storage_settings.cache_clear()


def _run(cli: tuple[typer.Typer, dict[str, str]], *args: str) -> Result:
    app, env = cli
    return CliRunner().invoke(app, ["api-keys", *args], env=env)


def test_a_key_made_on_the_command_line_works_until_it_is_revoked(
    cli: tuple[typer.Typer, dict[str, str]], client: TestClient, seed: Seeder
) -> None:
    seed.user("ana", Role.TRADER)
    made = _run(cli, "create", "--username", "ana", "--name", "nightly", "--role", "trader")
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert key.startswith("qk_")
    assert "shown this once" in made.stderr
    bearer = {"Authorization": f"Bearer {key}"}
    assert (
        client.post("/v1/runs", json={"strategy_id": "momentum_v1"}, headers=bearer).status_code
        == 202
    )

    listed = _run(cli, "list", "--username", "ana")
    assert listed.exit_code == 0, listed.output
    for shown in ("nightly", "trader", "active"):
        assert shown in listed.stdout
    assert key not in listed.stdout
    key_id = listed.stdout.split()[0]

    revoked = _run(cli, "revoke", "--id", key_id)
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in revoked.stdout
    assert (
        client.post("/v1/runs", json={"strategy_id": "momentum_v1"}, headers=bearer).status_code
        == 401
    )
    assert "REVOKED" in _run(cli, "list").stdout
    audit = seed.rows(select(AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id))
    assert [a for a, _ in audit] == ["api_key.create", "api_key.revoke"]
    assert all(d["via"].startswith("cli (") for _, d in audit)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["create", "--username", "val", "--name", "x", "--role", "admin"],
            "error: --role: a key's role cannot be above its owner's: 'val' is a viewer, the key "
            "asked for admin",
        ),
        (
            ["create", "--username", "nobody", "--name", "x", "--role", "viewer"],
            "error: --username: no user 'nobody'",
        ),
        (["revoke", "--id", "999"], "error: --id: no API key 999 exists"),
    ],
)
def test_a_bad_request_is_exit_2_with_one_line_naming_the_flag(
    cli: tuple[typer.Typer, dict[str, str]], seed: Seeder, args: list[str], line: str
) -> None:
    seed.user("val", Role.VIEWER, signed_in=False)
    done = _run(cli, *args)
    assert done.exit_code == 2, done.output
    assert done.stderr.strip().splitlines() == [line]
    assert seed.count("api_keys") == 0
