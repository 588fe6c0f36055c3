"""Each account's reconciliation with its broker: the state the risk gate reads, the difference
found, and an admin's audited resolution (ADR 0027).

The execution service saves a check's result (`save_reconciliation`) at start-up, after every
reconnect and on its periodic checks; every submit is denied unless the state is CLEAN. A
difference (BLOCKED) is never traded away automatically: an admin chooses to adopt the broker's
state or to flatten (`resolve_reconciliation`), which puts the account back to PENDING until the
runner has carried the choice out (`carried_out`) and saved a new check (ADR 0029). Adopting
writes the broker's orders and positions into our books (`adopt_order`, `adopt_position`,
`drop_order`), each audited, without a fill: nothing was traded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db import oms_store
from quant_db.audit import record
from quant_db.schema import Order as OrderRow
from quant_db.schema import (
    OrderEvent,
    Position,
    Reconciliation,
    ReconciliationState,
    Resolution,
    User,
)
from quant_domain import ConfigError, Order, OrderError, OrderStatus, QuantError


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
    caller's transaction. The last resolution's columns are kept for the record. While an
    admin's resolution waits for the runner, a check that is not clean leaves the account
    PENDING (the decision stands); a clean one settles it (nothing is left to do).

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
    if row.waiting:
        if state is ReconciliationState.CLEAN:
            row.carried_out_at = at
        else:
            state = ReconciliationState.PENDING
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


async def waiting_resolution(session: AsyncSession, account: str) -> Reconciliation | None:
    """The account's row, locked, when an admin's resolution waits for the runner; else None."""
    row = await session.get(
        Reconciliation, _account(account), with_for_update=True, populate_existing=True
    )
    return row if row is not None and row.waiting else None


async def carried_out(
    session: AsyncSession,
    *,
    account: str,
    at: datetime,
    detail: dict[str, Any],
    request_id: str,
) -> Reconciliation:
    """Mark the waiting resolution carried out and audit what the runner did
    (`reconciliation.carried_out`, attributed to the admin who chose it), in the caller's
    transaction. The account stays PENDING until the runner saves its next check.

    Raises:
        NothingToResolve: no resolution waits for this account.
    """
    row = await waiting_resolution(session, account)
    if row is None:
        raise NothingToResolve(f"no resolution waits for account {_account(account)}")
    assert row.resolution is not None  # waiting says so
    row.carried_out_at = at
    row.state = ReconciliationState.PENDING
    user = None if row.resolved_by is None else await session.get(User, row.resolved_by)
    record(
        session,
        user=user,
        action="reconciliation.carried_out",
        target_type="reconciliation",
        target_id=row.account,
        detail={"resolution": row.resolution.value, "reason": row.reason, **detail},
        request_id=request_id,
    )
    await session.flush()
    return row


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
    row.carried_out_at = None
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


# -- adopting the broker's state into our books (carried out by the runner) -----------------------


@dataclass(frozen=True, slots=True)
class Adopter:
    """Who adopts and where: the run whose books change, the account, the admin who chose it
    (None when that user was deleted since), and the request id the audit entries share."""

    run_id: uuid.UUID
    account: str
    user: User | None
    request_id: str


def _audit(
    session: AsyncSession,
    who: Adopter,
    action: str,
    target_type: str,
    target_id: str,
    detail: dict[str, Any],
) -> None:
    record(
        session,
        user=who.user,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail={"account": who.account, "run_id": str(who.run_id), "via": "runner", **detail},
        request_id=who.request_id,
    )


async def adopt_order(session: AsyncSession, who: Adopter, order: Order, *, at: datetime) -> bool:
    """Take an order working at the broker into the run's books: its row ACCEPTED (nothing
    filled), attributed to `order.strategy_id`, with a history row and an audit entry
    (`reconciliation.adopt_order`), so its later fills or cancellation are recorded as any
    order's. Returns False, writing nothing, when the run holds this client order id already.
    """
    cid = order.client_order_id
    if not order.strategy_id:
        raise OrderError(f"order {cid}: name the strategy it is adopted for")
    note = f"adopted from the broker when reconciling {who.account}"
    new_id = await oms_store.insert_order_row(
        session, who.run_id, order, OrderStatus.ACCEPTED, at=at, reason=note
    )
    if new_id is None:
        return False
    session.add(
        OrderEvent(
            run_id=who.run_id,
            client_order_id=cid,
            status=OrderStatus.ACCEPTED.value,
            reason=note,
            code="",
            at=at,
            idempotency_key=f"adopted:{cid}",
        )
    )
    price = "" if order.limit_price is None else f" @ {order.limit_price}"
    _audit(
        session,
        who,
        "reconciliation.adopt_order",
        "order",
        cid,
        {
            "strategy_id": order.strategy_id,
            "order": f"{order.side.value} {order.quantity} {order.symbol} "
            f"{order.type.value}{price}",
        },
    )
    await session.flush()
    return True


async def drop_order(
    session: AsyncSession, who: Adopter, client_order_id: str, *, at: datetime
) -> bool:
    """Stop counting as working an order of ours that the broker neither holds nor reported
    on: CANCELLED (REJECTED if it was never submitted) with the reason, audited
    (`reconciliation.drop_order`). False when it ended meanwhile (nothing to drop)."""
    row = await session.scalar(
        select(OrderRow)
        .where(OrderRow.run_id == who.run_id, OrderRow.client_order_id == client_order_id)
        .with_for_update()
    )
    if row is None or OrderStatus(row.status).is_final:
        return False
    before = row.status
    end = (
        OrderStatus.REJECTED
        if before == OrderStatus.PENDING_SUBMIT.value
        else OrderStatus.CANCELLED
    )
    await oms_store.record_transition(
        session,
        who.run_id,
        client_order_id,
        end,
        at=at,
        idempotency_key=f"dropped:{client_order_id}",
        reason=f"not working at the broker when reconciling {who.account}; its state adopted",
        code="NOT_AT_BROKER",
    )
    _audit(
        session,
        who,
        "reconciliation.drop_order",
        "order",
        client_order_id,
        {"before": before, "after": end.value},
    )
    return True


async def adopt_position(
    session: AsyncSession,
    who: Adopter,
    *,
    strategy_id: str,
    symbol: str,
    change: Decimal,
    cost: Decimal,
    at: datetime,
) -> Position:
    """Move the strategy's position in `symbol` by `change` to match the broker, at the
    broker's average price `cost` for what is taken in; no fill, no realised PnL (nothing was
    traded). Audited as `reconciliation.adopt_position` with the quantity before and after."""
    await session.execute(
        insert(Position)
        .values(
            run_id=who.run_id,
            strategy_id=strategy_id,
            symbol=symbol,
            quantity=Decimal(0),
            avg_price=Decimal(0),
            realized_pnl=Decimal(0),
            commission=Decimal(0),
            updated_at=at,
        )
        .on_conflict_do_nothing(index_elements=["run_id", "strategy_id", "symbol"])
    )
    row = await session.scalar(
        select(Position)
        .where(
            Position.run_id == who.run_id,
            Position.strategy_id == strategy_id,
            Position.symbol == symbol,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None  # inserted above or already there
    before, avg = row.quantity, row.avg_price
    after = before + change
    if after == 0:
        avg = Decimal(0)
    elif before == 0 or (before > 0) != (after > 0):
        avg = cost  # opened, or turned through zero: the broker's cost is the whole position's
    elif abs(after) > abs(before):
        avg = (before * avg + change * cost) / after  # grown: the two costs, weighted
    row.quantity = after
    row.avg_price = avg
    row.updated_at = at
    _audit(
        session,
        who,
        "reconciliation.adopt_position",
        "position",
        f"{strategy_id}:{symbol}",
        {
            "strategy_id": strategy_id,
            "symbol": symbol,
            "before": str(before),
            "after": str(after),
            "avg_price": str(avg),
        },
    )
    await session.flush()
    return row
