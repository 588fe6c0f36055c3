"""Alert rules over PostgreSQL: what is wrong now, each finding named by a dedupe key.

A rule only looks; `raise_alert` decides whether the finding becomes a new row (its key is not
already open or recent). Keys name the fact, so a condition that persists is one alert and a new
occurrence (another kill-switch change, another failed run) is another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_bus.streams import RiskModeChanged
from quant_db import controls
from quant_db.alerts import Severity, kill_switch_key
from quant_db.heartbeats import BROKER_CONNECTED, BROKER_DOWN_SINCE, ServiceBeat
from quant_db.schema import Alert, Order, OrderEvent, Reconciliation, ReconciliationState, Run
from quant_db.schema.runs import RunStatus, RunType
from quant_domain import KillSwitchMode

CRITICAL_SERVICES = frozenset({"execution", "risk"})
"""Services whose silence stops trading safely but must be known at once."""
LIVE_RUNS = frozenset({RunType.PAPER, RunType.LIVE})


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a rule fires (production defaults; tests shrink them)."""

    broker_down_s: float = 60.0
    rejections: int = 5
    rejection_window_s: float = 300.0
    failed_run_lookback_s: float = 3600.0
    kill_switch_lookback_s: float = 3600.0
    # an alert the risk service raised this close to a mode change announced it already
    risk_alert_slack_s: float = 30.0
    stream_lag: int = 1000
    pending_idle_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Finding:
    """Something an alert should say, under its dedupe key."""

    key: str
    severity: Severity
    title: str
    message: str
    context: dict[str, Any] = field(default_factory=dict)
    strategy_id: str | None = None
    run_id: Any = None


def missing_heartbeats(beats: Sequence[ServiceBeat]) -> list[Finding]:
    return [
        Finding(
            key=f"heartbeat_missing:{b.service}:{b.instance}",
            severity=Severity.CRITICAL if b.service in CRITICAL_SERVICES else Severity.WARNING,
            title=f"{b.service} stopped beating",
            message=f"{b.service} ({b.instance}) last beat {b.age_s:.0f} s ago "
            f"(it beats every {b.interval_s:g} s)",
            context={"service": b.service, "instance": b.instance, "age_s": b.age_s},
        )
        for b in beats
        if b.state == "missing"
    ]


def disconnected_brokers(
    beats: Sequence[ServiceBeat], now: datetime, limit_s: float
) -> list[Finding]:
    found: list[Finding] = []
    for b in beats:
        if b.state != "ok" or b.detail.get(BROKER_CONNECTED) is not False:
            continue
        try:
            since = datetime.fromisoformat(str(b.detail.get(BROKER_DOWN_SINCE)))
        except ValueError:
            continue
        down = (now - since).total_seconds()
        if down >= limit_s:
            found.append(
                Finding(
                    key=f"broker_disconnected:{b.service}:{b.instance}:{since.isoformat()}",
                    severity=Severity.CRITICAL,
                    title=f"{b.service}: broker disconnected",
                    message=f"the broker session of {b.service} ({b.instance}) has been "
                    f"disconnected for {down:.0f} s: no order can leave",
                    context={"service": b.service, "since": since.isoformat()},
                )
            )
    return found


async def kill_switch_change(session: AsyncSession, now: datetime, t: Thresholds) -> list[Finding]:
    """The last kill-switch change, unless old or already announced by the risk service."""
    state = await controls.kill_switch(session)
    if state.changed_by is None and state.reason == "":
        return []  # never changed since the first migration
    changed_at = state.changed_at.astimezone(UTC)
    if (now - changed_at).total_seconds() > t.kill_switch_lookback_s:
        return []
    slack = timedelta(seconds=t.risk_alert_slack_s)
    announced = await session.scalar(
        select(Alert.id)
        .where(
            Alert.source == "risk",
            Alert.ts >= changed_at - slack,
            Alert.ts <= changed_at + slack,
        )
        .limit(1)
    )
    if announced is not None:
        return []
    mode = KillSwitchMode(state.mode)
    who = await controls.changed_by(session, state) or "a service"
    return [
        Finding(
            key=kill_switch_key(state),
            severity=Severity.WARNING if mode is KillSwitchMode.ACTIVE else Severity.CRITICAL,
            title=f"kill switch: {mode.value}",
            message=f"{who} set the kill switch to {mode.value}: {state.reason or 'no reason'}",
            context={"mode": mode.value, "changed_by": who},
        )
    ]


async def blocked_reconciliations(session: AsyncSession) -> list[Finding]:
    rows = (
        await session.scalars(
            select(Reconciliation).where(Reconciliation.state == ReconciliationState.BLOCKED)
        )
    ).all()
    return [
        Finding(
            key=f"reconciliation_blocked:{row.account}",
            severity=Severity.CRITICAL,
            title=f"reconciliation blocked: {row.account}",
            message=f"account {row.account} differs from its broker: entries are refused until "
            "an admin adopts the broker's state or flattens",
            context={"account": row.account},
            run_id=row.run_id,
        )
        for row in rows
    ]


async def rejection_bursts(session: AsyncSession, now: datetime, t: Thresholds) -> list[Finding]:
    since = now - timedelta(seconds=t.rejection_window_s)
    rows = (
        await session.execute(
            select(Order.strategy_id, func.count())
            .join(
                OrderEvent,
                (OrderEvent.run_id == Order.run_id)
                & (OrderEvent.client_order_id == Order.client_order_id),
            )
            .where(OrderEvent.status == "rejected", OrderEvent.at >= since)
            .group_by(Order.strategy_id)
        )
    ).all()
    # one open alert per strategy while rejections go on (raise_alert's open/quiet rule)
    return [
        Finding(
            key=f"order_rejections:{strategy}",
            severity=Severity.WARNING,
            title=f"{strategy}: {count} orders rejected",
            message=f"{count} orders of {strategy} were rejected in the last "
            f"{t.rejection_window_s / 60:g} minutes",
            context={"rejected": count},
            strategy_id=strategy,
        )
        for strategy, count in rows
        if count >= t.rejections
    ]


async def failed_runs(session: AsyncSession, now: datetime, t: Thresholds) -> list[Finding]:
    since = now - timedelta(seconds=t.failed_run_lookback_s)
    runs = (
        await session.scalars(
            select(Run).where(Run.status == RunStatus.FAILED, Run.finished_at >= since)
        )
    ).all()
    return [
        Finding(
            key=f"run_failed:{run.id}",
            severity=Severity.CRITICAL if run.type in LIVE_RUNS else Severity.WARNING,
            title=f"{run.type} run of {run.strategy_id} failed",
            message=(run.error or "no error recorded").splitlines()[0][:300],
            context={"run_type": str(run.type)},
            strategy_id=run.strategy_id,
            run_id=run.id,
        )
        for run in runs
    ]


async def breaker_changes(
    session: AsyncSession, events: list[RiskModeChanged], now: datetime, t: Thresholds
) -> tuple[list[Finding], list[RiskModeChanged]]:
    """Findings for broadcast breaker changes the risk service did not announce itself within
    `t.risk_alert_slack_s`; the events still too recent to tell come back to wait."""
    slack = timedelta(seconds=t.risk_alert_slack_s)
    found: list[Finding] = []
    waiting: list[RiskModeChanged] = []
    for event in events:
        if now - event.timestamp < slack:
            waiting.append(event)
            continue
        announced = await session.scalar(
            select(Alert.id)
            .where(
                Alert.source == "risk",
                Alert.ts >= event.timestamp - slack,
                Alert.ts <= event.timestamp + slack,
            )
            .limit(1)
        )
        if announced is not None:
            continue
        scope = event.strategy_id or "account"
        found.append(
            Finding(
                key=f"risk_mode:{scope}:{event.mode.value}:{event.timestamp.isoformat()}",
                severity=Severity.WARNING
                if event.mode is KillSwitchMode.ACTIVE
                else Severity.CRITICAL,
                title=f"{scope}: {event.breaker} -> {event.mode.value}",
                message=f"breaker {event.breaker} put {scope} in {event.mode.value}: "
                f"{event.reason or 'no reason given'}",
                context={"breaker": event.breaker, "mode": event.mode.value},
                strategy_id=event.strategy_id,
            )
        )
    return found, waiting
