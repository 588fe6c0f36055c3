"""The risk policy's versions and the breakers' state (ADR 0038)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from quant_db.schema.base import Base


class RiskPolicyVersion(Base):
    """One version of the account's risk policy; the highest version is the one in force."""

    __tablename__ = "risk_policies"

    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    policy: Mapped[dict[str, Any]]
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(256), default="")  # a file name, or "api"
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class RiskState(Base):
    """Exactly one row: the breakers' memory (peak, session baseline, trips), kept across
    restarts so a latched drawdown stays latched; the risk service locks it while it works."""

    __tablename__ = "risk_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
