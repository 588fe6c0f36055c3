"""Raising an alert: one row in `alerts`, at most one open per dedupe key.

Any service raises an alert here (or by inserting a row itself); the monitoring service routes
new rows to the channels. With a dedupe key, a condition that persists is raised once: a new
row is added only when no alert with the key is still unacknowledged and none was raised within
`quiet_s`. Keys name the fact, e.g. `heartbeat_missing:execution:host:42` (ADR 0040).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.schema import Alert, KillSwitchState

QUIET_SECONDS = 1800.0


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


def severity_rank(severity: str) -> int:
    """Order of severities; an unknown word (an older row) counts as a warning."""
    try:
        return list(Severity).index(Severity(severity))
    except ValueError:
        return 1


def kill_switch_key(state: KillSwitchState) -> str:
    """The dedupe key of a kill-switch mode change: whoever raises it (the risk service or the
    monitoring service's rule) uses this one, so the change is announced once."""
    return f"kill_switch:{state.mode}:{state.changed_at.astimezone(UTC).isoformat()}"


async def raise_alert(
    session: AsyncSession,
    *,
    severity: Severity,
    source: str,
    message: str,
    dedupe_key: str | None = None,
    title: str | None = None,
    context: dict[str, Any] | None = None,
    strategy_id: str | None = None,
    run_id: uuid.UUID | None = None,
    quiet_s: float = QUIET_SECONDS,
) -> Alert | None:
    """Add the alert (the caller commits); None when its key is already open or recent."""
    if dedupe_key is not None:
        # one transaction at a time per key, so two raisers cannot both find it absent
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(dedupe_key))))
        since = datetime.now(UTC) - timedelta(seconds=quiet_s)
        open_or_recent = await session.scalar(
            select(Alert.id)
            .where(
                Alert.dedupe_key == dedupe_key,
                or_(Alert.acknowledged_at.is_(None), Alert.ts >= since),
            )
            .limit(1)
        )
        if open_or_recent is not None:
            return None
    alert = Alert(
        severity=severity.value,
        source=source,
        message=message,
        dedupe_key=dedupe_key,
        title=title,
        context=context,
        strategy_id=strategy_id,
        run_id=run_id,
    )
    session.add(alert)
    await session.flush()
    return alert
