"""Each account's reconciliation with its broker: the state the risk gate reads, the difference
found, and an admin's audited resolution (ADR 0027).

The execution service saves a check's result (`save_reconciliation`) at start-up, after every
reconnect and on its periodic checks; every submit is denied unless the state is CLEAN. A
difference (BLOCKED) is never traded away automatically: an admin chooses to adopt the broker's
state or to flatten (`resolve_reconciliation`), which puts the account back to PENDING until the
runner has carried the choice out and saved a CLEAN check.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.audit import record
from quant_db.schema import Reconciliation, ReconciliationState, Resolution, User
from quant_domain import ConfigError, QuantError


class NothingToResolve(QuantError):
    """A resolution was asked for an account that is not BLOCKED (or never reconciled)."""


def _account(account: str) -> str:
    name = account.strip()
    if not name:
        raise ConfigError("name the broker account (it must not be blank)", field="account")
    return name


async def save_reconciliation(
    session: AsyncSession,
    *,
    account: str,
    state: ReconciliationState,
    diff: dict[str, Any],
    at: datetime,
    run_id: uuid.UUID | None = None,
) -> Reconciliation:
    """Store a check's result as the account's reconciliation (one row per account), in the
    caller's transaction. The last resolution's columns are kept for the record.

    Raises:
        ConfigError: `account` is blank, a CLEAN check carries a difference, or a BLOCKED one
            carries none (the dashboard must be able to say what differs).
    """
    name = _account(account)
    if state is ReconciliationState.CLEAN and diff:
        raise ConfigError("a clean reconciliation has no difference", field="diff")
    if state is ReconciliationState.BLOCKED and not diff:
        raise ConfigError("a blocked reconciliation must say what differs", field="diff")
    row = await session.get(Reconciliation, name, with_for_update=True, populate_existing=True)
    if row is None:
        row = Reconciliation(account=name)
        session.add(row)
    row.state = state
    row.diff = diff
    row.checked_at = at
    row.run_id = run_id
    await session.flush()
    return row


async def reconciliation_state(session: AsyncSession, account: str) -> Reconciliation | None:
    """The account's reconciliation; None when it was never checked (which means PENDING: no
    order may be sent before a check)."""
    return await session.get(Reconciliation, _account(account), populate_existing=True)


async def resolve_reconciliation(
    session: AsyncSession,
    *,
    account: str,
    user: User,
    resolution: Resolution | str,
    reason: str,
    request_id: str,
    via: str = "api",
) -> Reconciliation:
    """Record an admin's choice for a BLOCKED account, audited (`reconciliation.resolve`, with
    the state and difference before, the choice, the reason and `via`) in the same transaction.
    The account becomes PENDING: the runner adopts the broker's state or flattens, then saves a
    CLEAN check. Role checks are the caller's (admin only).

    Raises:
        ConfigError: `resolution` is not adopt or flatten, or `reason` is blank.
        NothingToResolve: the account is not BLOCKED (clean, pending, or never checked).
    """
    name = _account(account)
    try:
        choice = Resolution(resolution)
    except ValueError:
        raise ConfigError(
            f"{resolution!r} is not a resolution; choose adopt or flatten", field="resolution"
        ) from None
    why = reason.strip()
    if not why:
        raise ConfigError("say why (the resolution is audited)", field="reason")
    row = await session.get(Reconciliation, name, with_for_update=True, populate_existing=True)
    if row is None:
        raise NothingToResolve(f"account {name} was never reconciled; there is nothing to resolve")
    if row.state is not ReconciliationState.BLOCKED:
        raise NothingToResolve(
            f"account {name} is {ReconciliationState(row.state).value}, not blocked; "
            "there is nothing to resolve"
        )
    before = {"state": ReconciliationState(row.state).value, "diff": row.diff}
    row.state = ReconciliationState.PENDING
    row.resolution = choice
    row.resolved_by = user.id
    row.resolved_at = datetime.now(UTC)
    row.reason = why
    record(
        session,
        user=user,
        action="reconciliation.resolve",
        target_type="reconciliation",
        target_id=name,
        detail={
            "before": before,
            "after": {"state": ReconciliationState.PENDING.value, "resolution": choice.value},
            "reason": why,
            "via": via,
        },
        request_id=request_id,
    )
    await session.flush()
    return row
