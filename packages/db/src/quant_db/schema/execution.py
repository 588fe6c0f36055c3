"""What the execution service keeps besides orders: processed event keys and reconciliation."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from quant_db.schema.base import Base
from quant_db.schema.identity import enum_column


class ReconciliationState(StrEnum):
    """Where an account's reconciliation with its broker stands (ADR 0027).

    PENDING: not checked since the runner (re)connected, or an admin's resolution is waiting
    for the runner to carry it out. CLEAN: the broker and the database agree. BLOCKED: they
    differ; `diff` says how, and only an admin's adopt or flatten unblocks it. Every submit is
    denied unless the state is CLEAN; cancels pass.
    """

    CLEAN = "clean"
    PENDING = "pending"
    BLOCKED = "blocked"


class Resolution(StrEnum):
    """What an admin chose for a difference: take the broker's state, or close everything."""

    ADOPT = "adopt"
    FLATTEN = "flatten"


class ProcessedEvent(Base):
    """A bus event a consumer group has handled, by its idempotency key.

    Written in the same transaction as the event's effects, so a redelivered event (the consumer
    died after its commit, before its acknowledgement) is recognised and skipped.
    """

    __tablename__ = "processed_events"

    consumer_group: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Reconciliation(Base):
    """One account's latest reconciliation: its state, the difference found, who resolved it.

    `resolved_*` describe the last resolution; `carried_out_at` is NULL while it waits for the
    runner (the state is then PENDING), and says when the runner carried it out, or when a clean
    check made it unnecessary. Every resolution is also in the audit log.
    """

    __tablename__ = "reconciliation"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("runs.id", ondelete="SET NULL")
    )
    state: Mapped[ReconciliationState] = mapped_column(
        enum_column(ReconciliationState, "state"), default=ReconciliationState.PENDING
    )
    checked_at: Mapped[datetime]
    diff: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resolution: Mapped[Resolution | None] = mapped_column(enum_column(Resolution, "resolution"))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    carried_out_at: Mapped[datetime | None]

    @property
    def waiting(self) -> bool:
        """An admin's resolution is recorded and the runner has not carried it out yet."""
        return self.resolution is not None and self.carried_out_at is None
