"""`quant reconcile adopt|flatten ACCOUNT`: an admin's decision on a blocked account, recorded
straight in the database and audited; bad accounts, states and flags exit 2 with one line."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_db.reconciliation import save_reconciliation
from quant_db.schema import AuditEntry, User
from quant_db.schema.execution import Reconciliation, ReconciliationState, Resolution
from quant_db.schema.identity import Role
from quant_db.settings import get_settings
from tests.unit.cli.test_cli import quant

DIFFERENCE = {"kind": "position_mismatch", "key": "SP500", "broker": "10", "ours": "0"}


@pytest.fixture
def platform(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    _db(database_url, _seed)
    yield database_url
    get_settings.cache_clear()


def _db(url: str, work: Any) -> Any:
    async def main() -> Any:
        engine = create_async_engine(url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def _seed(session: AsyncSession) -> None:
    session.add(User(username="root", password_hash="x", role=Role.ADMIN))
    session.add(User(username="eve", password_hash="x", role=Role.TRADER))
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    await save_reconciliation(
        session,
        account="paper",
        state=ReconciliationState.BLOCKED,
        diff={"differences": [DIFFERENCE]},
        at=at,
    )
    await save_reconciliation(
        session, account="alpaca-paper", state=ReconciliationState.CLEAN, diff={}, at=at
    )
    await session.commit()


async def _state(session: AsyncSession) -> tuple[Any, ...]:
    row = await session.get(Reconciliation, "paper")
    assert row is not None
    entries = list(await session.scalars(select(AuditEntry)))
    return row.state, row.resolution, row.reason, row.carried_out_at, entries


def test_an_admin_adopts_a_blocked_account_from_the_shell_audited_and_status_shows_it(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = quant(
        capsys,
        monkeypatch,
        "reconcile",
        "adopt",
        "paper",
        "--reason",
        "the broker is right",
        "--user",
        "root",
    )
    assert (code, err) == (0, "")
    assert out.startswith("paper: pending, adopt recorded by root;")
    state, resolution, reason, carried_out_at, [entry] = _db(platform, _state)
    assert (state, resolution, reason, carried_out_at) == (
        ReconciliationState.PENDING,
        Resolution.ADOPT,
        "the broker is right",
        None,
    )
    assert entry.action == "reconciliation.resolve"
    assert entry.detail["username"] == "root"
    assert entry.detail["via"].startswith("cli (")
    code, out, _ = quant(capsys, monkeypatch, "reconcile", "status")
    assert code == 0
    assert "  adopt: the broker is right (waiting for the execution service)" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["flatten", "alpaca-paper", "--reason", "x", "--user", "root"],
            "error: account alpaca-paper is clean, not blocked; there is nothing to resolve",
        ),
        (
            ["adopt", "ib-live", "--reason", "x", "--user", "root"],
            "error: account ib-live was never reconciled; there is nothing to resolve",
        ),
        (
            ["adopt", "paper", "--user", "root"],
            "error: --reason: say why (the decision is audited)",
        ),
        (
            ["adopt", "paper", "--reason", "  ", "--user", "root"],
            "error: --reason: say why (the decision is audited)",
        ),
        (["flatten", "paper", "--reason", "x"], "error: --user: name the admin who decides"),
        (
            ["flatten", "paper", "--reason", "x", "--user", "eve"],
            "error: --user: 'eve' is not an active admin",
        ),
        (
            ["adopt", " ", "--reason", "x", "--user", "root"],
            "error: account: name the broker account (it must not be blank)",
        ),
    ],
)
def test_a_bad_account_state_or_flag_exits_2_with_one_line_and_changes_nothing(
    platform: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    expected: str,
) -> None:
    code, _, err = quant(capsys, monkeypatch, "reconcile", *args)
    assert code == 2
    assert err.strip().splitlines() == [expected]
    state, resolution, _, _, entries = _db(platform, _state)
    assert (state, resolution, entries) == (ReconciliationState.BLOCKED, None, [])
