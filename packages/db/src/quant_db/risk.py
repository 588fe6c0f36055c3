"""The risk policy in force, its versions, the breakers' stored state, re-arms and risk alerts.

Policies arrive here validated (quant_engine.risk_policy, by the API and the CLI) and are kept
as JSON; every change is audited with the policy before and after. The breakers' rules live in
the engine; this module only stores what they remember (ADR 0038).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.audit import record
from quant_db.controls import kill_switch, set_kill_switch_mode
from quant_db.schema import Alert, AuditEntry, EquityPoint, KillSwitchState, Position, Run, User
from quant_db.schema.risk import RiskPolicyVersion, RiskState
from quant_db.schema.runs import RunStatus, RunType
from quant_domain import ConfigError, KillSwitchMode

SOURCE = "risk"
"""The `source` of every alert the risk service raises."""

MODE_ACTIONS = ("kill_switch.set_mode", "kill_switch.engage", "kill_switch.release")
"""Audit actions that changed the kill-switch mode (the mode history)."""


def _reason(reason: str) -> str:
    why = reason.strip()
    if not why:
        raise ConfigError("say why (every change of the risk policy is audited)", field="reason")
    return why


async def policy_in_force(session: AsyncSession) -> RiskPolicyVersion | None:
    """The latest policy version (None: no policy was ever applied)."""
    return await session.scalar(
        select(RiskPolicyVersion).order_by(RiskPolicyVersion.version.desc()).limit(1)
    )


async def policy_version(session: AsyncSession) -> int | None:
    """The version in force (None: none was ever applied); cheap enough to read every step."""
    return await session.scalar(select(func.max(RiskPolicyVersion.version)))


async def policy_versions(session: AsyncSession, limit: int = 20) -> Sequence[RiskPolicyVersion]:
    """The latest `limit` policy versions, newest first."""
    rows = await session.scalars(
        select(RiskPolicyVersion).order_by(RiskPolicyVersion.version.desc()).limit(limit)
    )
    return rows.all()


async def apply_policy(
    session: AsyncSession,
    *,
    user: User,
    policy: dict[str, Any],
    reason: str,
    source: str,
    request_id: str,
    via: str,
) -> RiskPolicyVersion:
    """Store `policy` (validated by the caller) as the next version, audited with the version
    and policy before and after, the reason and `via` (api, cli). The state row is locked until
    the caller commits, so two changes (or a change and the risk service) cannot interleave."""
    why = _reason(reason)
    await risk_state(session, for_update=True)
    before = await policy_in_force(session)
    row = RiskPolicyVersion(policy=policy, reason=why, source=source, created_by=user.id)
    session.add(row)
    await session.flush()
    record(
        session,
        user=user,
        action="risk.policy",
        target_type="risk_policy",
        target_id=str(row.version),
        detail={
            "before": None
            if before is None
            else {"version": before.version, "policy": before.policy},
            "after": {"version": row.version, "policy": policy},
            "reason": why,
            "via": via,
        },
        request_id=request_id,
    )
    await session.flush()
    await session.refresh(row)
    return row


async def risk_state(session: AsyncSession, *, for_update: bool = False) -> RiskState:
    """The breakers' state row (the migration inserts it empty; recreated if deleted)."""
    row = await session.get(RiskState, 1, with_for_update=for_update)
    if row is None:
        row = RiskState(id=1, state={})
        session.add(row)
        await session.flush()
        await session.refresh(row)
    return row


def save_state(row: RiskState, state: dict[str, Any]) -> None:
    """Keep `state` on the (locked) row; it commits with the caller's transaction."""
    row.state = state
    row.updated_at = datetime.now(UTC)


async def rearm(
    session: AsyncSession,
    *,
    user: User | None,
    reason: str,
    request_id: str,
    via: str,
    reset: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[KillSwitchMode, KillSwitchState]:
    """An admin's re-arm: the breakers' state becomes `reset(state)` and a kill switch that a
    pause or halt left in reduce_only or flatten_and_halt returns to active. Audited (state
    before and after, the reason); returns the mode before and the kill-switch row."""
    why = _reason(reason)
    row = await risk_state(session, for_update=True)
    before_state = dict(row.state)
    after_state = reset(before_state)
    save_state(row, after_state)
    record(
        session,
        user=user,
        action="risk.rearm",
        target_type="risk_state",
        target_id="1",
        detail={"before": before_state, "after": after_state, "reason": why, "via": via},
        request_id=request_id,
    )
    switch = await kill_switch(session, for_update=True)
    before_mode = KillSwitchMode(switch.mode)
    if before_mode in (KillSwitchMode.REDUCE_ONLY, KillSwitchMode.FLATTEN_AND_HALT):
        switch = await set_kill_switch_mode(
            session,
            user=user,
            mode=KillSwitchMode.ACTIVE,
            reason=f"re-armed: {why}",
            request_id=request_id,
            via=via,
        )
    await session.flush()
    return before_mode, switch


async def mode_history(session: AsyncSession, limit: int = 50) -> list[dict[str, Any]]:
    """The latest kill-switch changes, newest first: when, who (None: the risk service), the
    mode before and after, why, and how (api, cli, risk)."""
    rows = await session.execute(
        select(AuditEntry, User.username)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .where(AuditEntry.action.in_(MODE_ACTIONS))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    history = []
    for entry, username in rows.all():
        detail = entry.detail
        before, after = detail.get("before") or {}, detail.get("after") or {}
        history.append(
            {
                "at": entry.at,
                "changed_by": username,
                "mode_before": before.get(
                    "mode", "halt_entries" if before.get("engaged") else "active"
                ),
                "mode": after.get("mode", "halt_entries" if after.get("engaged") else "active"),
                "reason": after.get("reason", detail.get("reason", "")),
                "via": detail.get("via", "api"),
            }
        )
    return history


def raise_alert(
    session: AsyncSession,
    message: str,
    *,
    severity: str = "critical",
    strategy_id: str | None = None,
) -> Alert:
    """Add a risk alert to the session (it commits with the change it reports); the monitoring
    service delivers new rows to the channels."""
    alert = Alert(severity=severity, source=SOURCE, message=message, strategy_id=strategy_id)
    session.add(alert)
    return alert


async def exposure(session: AsyncSession) -> dict[str, Any]:
    """Exposure and concentration of every running paper session and of the account: equity
    (the latest equity point), gross exposure (|quantity| x last price), positions held, and
    the largest position's symbol and share of the gross."""
    runs = (
        await session.scalars(
            select(Run).where(Run.type == RunType.PAPER, Run.status == RunStatus.RUNNING)
        )
    ).all()
    strategies: dict[str, dict[str, Any]] = {}
    net: dict[str, float] = {}
    last: dict[str, float] = {}
    total_equity = 0.0
    for run in runs:
        point = await session.scalar(
            select(EquityPoint.equity)
            .where(EquityPoint.run_id == run.id)
            .order_by(EquityPoint.ts.desc())
            .limit(1)
        )
        equity = float(point) if point is not None else 0.0
        total_equity += equity
        values: dict[str, float] = {}
        for position in (
            await session.scalars(select(Position).where(Position.run_id == run.id))
        ).all():
            if not position.quantity:
                continue
            price = float(position.last_price or position.avg_price)
            values[position.symbol] = abs(float(position.quantity)) * price
            net[position.symbol] = net.get(position.symbol, 0.0) + float(position.quantity)
            last[position.symbol] = price
        if run.strategy_id is None:  # a paper run always has its strategy; never a train run
            continue
        strategies[run.strategy_id] = {
            "run_id": str(run.id),
            "equity": equity,
            **_concentration(values, equity),
        }
    account_values = {s: abs(q) * last[s] for s, q in net.items() if q}
    return {
        "account": {"equity": total_equity, **_concentration(account_values, total_equity)},
        "strategies": strategies,
    }


def _concentration(values: dict[str, float], equity: float) -> dict[str, Any]:
    gross = sum(values.values())
    largest = max(values, key=lambda s: values[s], default=None)
    return {
        "gross_exposure": gross,
        "capital_deployed": gross / equity if equity > 0 else 0.0,
        "positions": len(values),
        "largest_symbol": largest,
        "largest_share_of_gross": values[largest] / gross if largest and gross > 0 else 0.0,
        "largest_share_of_equity": values[largest] / equity if largest and equity > 0 else 0.0,
    }
