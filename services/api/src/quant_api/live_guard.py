"""What a strategy needs before it may go LIVE, beyond the admin and the typed confirmation.

The execution service trades one account (QUANT_EXECUTION_ACCOUNT, `paper` by default) through
the broker QUANT_ACCOUNT_BROKERS names for it (`sim` unless named). A move to LIVE is refused
(409, naming what is missing) unless:

- the account is on a real broker (`alpaca` or `ib`), never the simulated one;
- that broker's credentials are present in the environment, or Alpaca's in its secrets file
  (checked by name; a value is never read into a message, a response or the log);
- the strategy's stored config sets the risk limits that bound its money (LIVE_RISK_LIMITS);
- the account's last reconciliation is CLEAN (what GET /v1/reconciliation shows).

The account format is the execution service's (quant_execution.brokers); a service may not
import another, so the few lines that read it are repeated here and a test keeps them equal.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.errors import ApiError
from quant_db.reconciliation import reconciliation_state
from quant_db.schema import Strategy
from quant_db.schema.execution import ReconciliationState

ACCOUNT_ENV = "QUANT_EXECUTION_ACCOUNT"
ACCOUNT_BROKERS_ENV = "QUANT_ACCOUNT_BROKERS"
REAL_BROKERS = ("alpaca", "ib")
CREDENTIALS: Mapping[str, tuple[str, ...]] = {
    "alpaca": ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY"),
    "ib": ("QUANT_IB_ACCOUNT",),
}
"""The environment variables each broker's adapter authenticates with: Alpaca's keys; for IB,
whose login happens in the Gateway, the account id it must trade (named, not guessed, for LIVE)."""
SECRETS_FILES: Mapping[str, str] = {"alpaca": "QUANT_ALPACA_BROKER_SECRETS_FILE"}
"""A file the adapter may read its keys from instead (owner-only; the adapter checks its mode)."""

LIVE_RISK_LIMITS = ("max_position_pct", "max_gross_exposure", "max_order_notional")
"""Caps a LIVE strategy's config must set itself (under `risk:`), not inherit by default."""


def execution_account(env: Mapping[str, str] | None = None) -> str:
    return (os.environ if env is None else env).get(ACCOUNT_ENV, "").strip() or "paper"


def account_broker(account: str, env: Mapping[str, str] | None = None) -> str:
    """The broker kind QUANT_ACCOUNT_BROKERS names for `account` (`sim` when it names none)."""
    raw = (os.environ if env is None else env).get(ACCOUNT_BROKERS_ENV, "")
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        name, _, kind = entry.partition("=")
        if name.strip() == account:
            return kind.strip()
    return "sim"


async def live_refusal(
    session: AsyncSession, strategy: Strategy, env: Mapping[str, str] | None = None
) -> ApiError | None:
    """Why `strategy` may not go LIVE now (a 409 naming what is missing), or None."""
    values = os.environ if env is None else env
    account = execution_account(values)
    kind = account_broker(account, values)
    if kind not in REAL_BROKERS:
        return ApiError(
            409,
            f"account {account!r} trades through the {kind!r} broker; LIVE needs a real one: "
            f"name alpaca or ib for it in {ACCOUNT_BROKERS_ENV}",
            field="account.broker",
        )
    missing = [name for name in CREDENTIALS[kind] if not values.get(name, "").strip()]
    secrets_file = values.get(SECRETS_FILES.get(kind, ""), "").strip()
    if missing and secrets_file and Path(secrets_file).is_file():
        missing = []  # the adapter reads them from the file (and refuses it if others can read)
    if missing:
        return ApiError(
            409,
            f"the {kind} credentials of account {account!r} are missing: set "
            f"{', '.join(missing)} for the execution service",
            field="account.credentials",
        )
    risk = strategy.config.get("risk") or {}
    unset = [name for name in LIVE_RISK_LIMITS if risk.get(name) is None]
    if unset:
        return ApiError(
            409,
            f"strategy {strategy.id!r} must set its own risk limits before LIVE: "
            f"{', '.join('risk.' + name for name in unset)} in its config",
            field=f"strategy.config.risk.{unset[0]}",
        )
    check = await reconciliation_state(session, account)
    if check is None or check.state is not ReconciliationState.CLEAN:
        state = "never checked" if check is None else check.state.value
        return ApiError(
            409,
            f"the reconciliation of account {account!r} is {state}: LIVE needs it clean "
            "(GET /v1/reconciliation; an admin resolves a difference)",
            field="reconciliation.state",
        )
    return None
