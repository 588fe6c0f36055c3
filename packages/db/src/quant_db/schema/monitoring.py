"""Service heartbeats and the delivery queue of alerts to their channels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from quant_db.schema.base import Base


class Heartbeat(Base):
    """One row per running service instance, refreshed every beat (quant_db.heartbeats)."""

    __tablename__ = "heartbeats"

    service: Mapped[str] = mapped_column(String(64), primary_key=True)
    instance: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime]
    last_beat: Mapped[datetime] = mapped_column(server_default=func.now())
    interval_s: Mapped[float] = mapped_column(Float)
    metrics_url: Mapped[str | None] = mapped_column(String(256))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stopped_at: Mapped[datetime | None]


class DeliveryStatus:
    """The states of a delivery row (plain strings: the queue is read with plain SQL)."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # same dedupe key delivered to this channel within the window


class AlertDelivery(Base):
    """One alert on its way to one channel: the queue the monitoring service drains."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        Index(
            "ix_alert_deliveries_channel_dedupe_key_created_at",
            "channel",
            "dedupe_key",
            "created_at",
        ),
        Index(
            "ix_alert_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    lease_until: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
