"""Price bars, ingestion runs and the bars they quarantined."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Computed, Float, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from quant_db.schema.base import Base


class PriceBar(Base):
    """One OHLCV bar; (symbol, timeframe, ts) is unique, so re-ingesting changes nothing."""

    __tablename__ = "price_bars"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    open: Mapped[Decimal]
    high: Mapped[Decimal]
    low: Mapped[Decimal]
    close: Mapped[Decimal]
    volume: Mapped[Decimal]
    source: Mapped[str] = mapped_column(String(32))
    ingestion_run_id: Mapped[int | None] = mapped_column(BigInteger)
    # float8 twins computed by the database, read by the engine (migration 0002)
    open_f: Mapped[float] = mapped_column(Float, Computed("open::double precision", persisted=True))
    high_f: Mapped[float] = mapped_column(Float, Computed("high::double precision", persisted=True))
    low_f: Mapped[float] = mapped_column(Float, Computed("low::double precision", persisted=True))
    close_f: Mapped[float] = mapped_column(
        Float, Computed("close::double precision", persisted=True)
    )
    volume_f: Mapped[float] = mapped_column(
        Float, Computed("volume::double precision", persisted=True)
    )


class IngestionRun(Base):
    """One `quant data ingest`: what was asked, what arrived, what was stored or refused."""

    __tablename__ = "ingestion_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))
    symbols: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    timeframe: Mapped[str] = mapped_column(String(8))
    start: Mapped[datetime | None]
    end: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]
    bars_received: Mapped[int] = mapped_column(default=0)
    bars_inserted: Mapped[int] = mapped_column(default=0)
    bars_unchanged: Mapped[int] = mapped_column(default=0)
    bars_quarantined: Mapped[int] = mapped_column(default=0)
    problems: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class QuarantinedBar(Base):
    """A bar that failed validation, kept with the reason instead of silently dropped."""

    __tablename__ = "quarantined_bars"
    __table_args__ = (Index("ix_quarantined_bars_symbol_ts", "symbol", "ts"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    ingestion_run_id: Mapped[int] = mapped_column(
        ForeignKey("ingestion_runs.id", ondelete="CASCADE"), index=True
    )
    symbol: Mapped[str] = mapped_column(String(32))
    ts: Mapped[datetime | None]
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(Text)
