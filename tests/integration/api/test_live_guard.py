"""A move to LIVE needs, besides an admin and the typed strategy id, a real broker for the
execution account, its credentials, the strategy's own risk limits and a clean reconciliation;
each refusal is a 409 naming what is missing and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.live_guard import account_broker
from quant_db.reconciliation import save_reconciliation
from quant_db.schema import Strategy
from quant_db.schema.execution import ReconciliationState
from quant_db.schema.identity import Role
from quant_db.schema.runs import Mode
from quant_execution.brokers import broker_kind
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Seeder

LIMITS = {"max_position_pct": 0.2, "max_gross_exposure": 0.5, "max_order_notional": 5000}
KEYS = {"APCA_API_KEY_ID": "PKTESTKEYID123", "APCA_API_SECRET_KEY": "sEcReT-value-9876"}


def live_ready(monkeypatch: pytest.MonkeyPatch, **skip: bool) -> None:
    monkeypatch.setenv("QUANT_EXECUTION_ACCOUNT", "alpaca-paper")
    if not skip.get("broker"):
        monkeypatch.setenv("QUANT_ACCOUNT_BROKERS", "paper=sim,alpaca-paper=alpaca")
    for name, value in KEYS.items():
        if not skip.get("keys"):
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)


def prepare(
    seed: Seeder, *, risk: dict[str, Any] | None, state: ReconciliationState | None
) -> None:
    async def body(session: AsyncSession) -> None:
        strategy = await session.get(Strategy, "momentum_v1")
        assert strategy is not None
        config = dict(strategy.config)
        if risk is not None:
            config["risk"] = {**(config.get("risk") or {}), **risk}
        await session.execute(
            update(Strategy)
            .where(Strategy.id == "momentum_v1")
            .values(config=config, mode=Mode.PAPER)
        )
        if state is not None:
            await save_reconciliation(
                session,
                account="alpaca-paper",
                state=state,
                diff={}
                if state is not ReconciliationState.BLOCKED
                else {"differences": [{"symbol": "SPY", "ours": "0", "broker": "10"}]},
                at=datetime.now(UTC),
            )
        await session.commit()

    seed.call(body)


def move_live(client: TestClient, seed: Seeder) -> Any:
    admin = seed.user("admin", Role.ADMIN)
    body = {"strategy_id": "momentum_v1", "mode": "LIVE", "reason": "go", "confirm": "momentum_v1"}
    return client.post("/v1/controls/mode-transition", json=body, headers=admin.headers)


def mode_now(seed: Seeder) -> Mode:
    [(mode,)] = seed.rows(select(Strategy.mode).where(Strategy.id == "momentum_v1"))
    return mode  # type: ignore[no-any-return]


def test_live_guard_allows_live_when_broker_keys_limits_and_reconciliation_are_in_place(
    client: TestClient, seed: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_ready(monkeypatch)
    prepare(seed, risk=LIMITS, state=ReconciliationState.CLEAN)
    response = move_live(client, seed)
    assert response.status_code == 200, response.text
    assert mode_now(seed) is Mode.LIVE


@pytest.mark.parametrize(
    ("skip", "risk", "state", "field", "words"),
    [
        ({"broker": True}, LIMITS, ReconciliationState.CLEAN, "account.broker", "'sim' broker"),
        (
            {"keys": True},
            LIMITS,
            ReconciliationState.CLEAN,
            "account.credentials",
            "APCA_API_KEY_ID",
        ),
        ({}, None, ReconciliationState.CLEAN, "strategy.config.risk.max_order_notional", "risk."),
        ({}, LIMITS, None, "reconciliation.state", "never checked"),
        ({}, LIMITS, ReconciliationState.BLOCKED, "reconciliation.state", "is blocked"),
    ],
)
def test_live_guard_refuses_live_naming_what_is_missing(
    client: TestClient,
    seed: Seeder,
    monkeypatch: pytest.MonkeyPatch,
    skip: dict[str, bool],
    risk: dict[str, Any] | None,
    state: ReconciliationState | None,
    field: str,
    words: str,
) -> None:
    live_ready(monkeypatch, **skip)
    prepare(seed, risk=risk, state=state)
    error = assert_error(move_live(client, seed), 409, "conflict", field=field)
    assert words in error["message"]
    assert mode_now(seed) is Mode.PAPER  # nothing changed
    assert seed.count("audit_log") == 0


def test_live_guard_reads_the_account_format_as_the_execution_service_does() -> None:
    env = {"QUANT_ACCOUNT_BROKERS": " paper=sim, a=alpaca ,b=ib"}
    for account in ("paper", "a", "b", "unnamed"):
        assert account_broker(account, env) == broker_kind(account, env)
