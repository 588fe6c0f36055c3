"""The delivery queue in PostgreSQL: alerts routed to channels, claimed with SKIP LOCKED, retried.

Routing turns each new alert (`routed_at` still NULL) into one `alert_deliveries` row per channel
whose minimum severity it meets. A channel that already has a delivery of the same dedupe key
created within the window (pending, in flight or delivered) gets the row as `suppressed`, so the
decision is on record. Claiming leases due rows to one sender; a lease that runs out (its sender
died) makes the row claimable again. Every outcome is written back: delivered, retried later
with the attempt's error, or failed after the last attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.alerts import severity_rank
from quant_db.schema import Alert, AlertDelivery
from quant_db.schema.monitoring import DeliveryStatus
from quant_monitoring.channel_config import EmailChannel, SlackChannel, WebhookChannel
from quant_monitoring.message import AlertMessage

Channel = SlackChannel | WebhookChannel | EmailChannel
SUMMARY_PREFIX = "daily_summary:"
_ROUTING_LOCK = 0x71_75_61_6E_74  # one router at a time across monitoring instances
_COUNTED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DELIVERED)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery leased to this sender, with the alert it carries."""

    delivery_id: int
    channel: str
    attempts: int  # including the one about to be made
    alert: AlertMessage


def _wants(channel: Channel, alert: Alert, key: str) -> bool:
    if key.startswith(SUMMARY_PREFIX):
        return channel.daily_summary
    return severity_rank(alert.severity) >= severity_rank(channel.min_severity)


def dedupe_key(alert: Alert) -> str:
    """The alert's key, or one of its own when it has none (then it is never deduplicated)."""
    return alert.dedupe_key or f"alert:{alert.id}"


async def route(
    session: AsyncSession, channels: Sequence[Channel], window_s: float, limit: int = 200
) -> int:
    """Queue the new alerts for their channels (the caller commits); how many alerts were routed."""
    await session.execute(select(func.pg_advisory_xact_lock(_ROUTING_LOCK)))
    alerts = (
        await session.scalars(
            select(Alert)
            .where(Alert.routed_at.is_(None))
            .order_by(Alert.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    since = datetime.now(UTC) - timedelta(seconds=window_s)
    for alert in alerts:
        key = dedupe_key(alert)
        for channel in channels:
            if not _wants(channel, alert, key):
                continue
            recent = await session.scalar(
                select(AlertDelivery.id)
                .where(
                    AlertDelivery.channel == channel.name,
                    AlertDelivery.dedupe_key == key,
                    AlertDelivery.created_at >= since,
                    AlertDelivery.status.in_(_COUNTED),
                )
                .limit(1)
            )
            session.add(
                AlertDelivery(
                    alert_id=alert.id,
                    channel=channel.name,
                    dedupe_key=key,
                    status=DeliveryStatus.SUPPRESSED if recent else DeliveryStatus.PENDING,
                    last_error=None if recent is None else f"same key sent as delivery {recent}",
                )
            )
            await session.flush()  # the next alert of this batch sees this row
        alert.routed_at = datetime.now(UTC)
    await session.flush()
    return len(alerts)


def _message(alert: Alert, key: str) -> AlertMessage:
    return AlertMessage(
        alert_id=alert.id,
        ts=alert.ts,
        severity=alert.severity,
        source=alert.source,
        message=alert.message,
        dedupe_key=key,
        title=alert.title,
        strategy_id=alert.strategy_id,
        run_id=alert.run_id if isinstance(alert.run_id, uuid.UUID) else None,
        context=dict(alert.context or {}),
    )


async def claim(
    session: AsyncSession, limit: int, lease_s: float, channels: Sequence[str]
) -> list[Claimed]:
    """Lease up to `limit` due deliveries of the known `channels` (the caller commits)."""
    if limit <= 0 or not channels:
        return []
    now = func.now()
    due = (
        select(AlertDelivery.id)
        .where(
            AlertDelivery.channel.in_(channels),
            or_(
                and_(
                    AlertDelivery.status == DeliveryStatus.PENDING,
                    AlertDelivery.next_attempt_at <= now,
                ),
                and_(
                    AlertDelivery.status == DeliveryStatus.SENDING, AlertDelivery.lease_until < now
                ),
            ),
        )
        .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (
        await session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id.in_(due.scalar_subquery()))
            .values(
                status=DeliveryStatus.SENDING,
                attempts=AlertDelivery.attempts + 1,
                lease_until=now + timedelta(seconds=lease_s),
            )
            .returning(
                AlertDelivery.id,
                AlertDelivery.channel,
                AlertDelivery.attempts,
                AlertDelivery.alert_id,
                AlertDelivery.dedupe_key,
            )
            .execution_options(synchronize_session=False)
        )
    ).all()
    ids = [row.alert_id for row in rows]
    alerts = {a.id: a for a in (await session.scalars(select(Alert).where(Alert.id.in_(ids))))}
    return [
        Claimed(row.id, row.channel, row.attempts, _message(alerts[row.alert_id], row.dedupe_key))
        for row in sorted(rows, key=lambda r: r.id)
    ]


async def delivered(session: AsyncSession, delivery_id: int) -> None:
    await session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == delivery_id)
        .values(
            status=DeliveryStatus.DELIVERED,
            delivered_at=func.now(),
            lease_until=None,
            last_error=None,
        )
    )


async def retry_later(session: AsyncSession, delivery_id: int, error: str, delay_s: float) -> None:
    await session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == delivery_id)
        .values(
            status=DeliveryStatus.PENDING,
            next_attempt_at=func.now() + timedelta(seconds=delay_s),
            lease_until=None,
            last_error=error[:500],
        )
    )


async def failed(session: AsyncSession, delivery_id: int, error: str) -> None:
    await session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == delivery_id)
        .values(status=DeliveryStatus.FAILED, lease_until=None, last_error=error[:500])
    )
