"""Alerts and the persisted kill-switch state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Computed, ForeignKey, String, Text, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from quant_db.schema.base import Base
from quant_db.schema.identity import enum_column
from quant_domain import KillSwitchMode


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    strategy_id: Mapped[str | None] = mapped_column(String(64))
    run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # nullable, so a service inserting only the columns above still raises an alert (ADR 0040)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    context: Mapped[dict[str, Any] | None]
    routed_at: Mapped[datetime | None]  # when the monitoring service queued it for its channels


class KillSwitchState(Base):
    """Exactly one row: the kill-switch mode, since when, by whom and why. Survives restarts.

    `engaged` is derived (mode is not active) for readers written before the modes (ADR 0024).
    """

    __tablename__ = "kill_switch"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    mode: Mapped[KillSwitchMode] = mapped_column(
        enum_column(KillSwitchMode, "mode"),
        default=KillSwitchMode.ACTIVE,
        server_default=KillSwitchMode.ACTIVE.value,
    )
    engaged: Mapped[bool] = mapped_column(Computed("mode <> 'active'", persisted=True))
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(server_default=func.now())
