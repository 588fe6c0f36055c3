"""Price bars, ingestion runs and the bars they quarantined."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Dialect,
    Double,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from quant_db.schema.base import Base


class BarPrice(TypeDecorator[Decimal]):
    """float8 in the database, Decimal in Python: the shortest decimal that reads back as the
    stored float, which is the ingested price itself for up to 15 significant digits (ADR 0012)."""

    impl = Double
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> float | None:
        return None if value is None else float(value)

    def process_result_value(self, value: float | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(repr(value))


class PriceBar(Base):
    """One OHLCV bar; (symbol, timeframe, ts) is unique, so re-ingesting changes nothing.

    Prices are float8 (ADR 0012): ingestion refuses any with more than 15 significant digits.
    """

    __tablename__ = "price_bars"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    open: Mapped[Decimal] = mapped_column(BarPrice)
    high: Mapped[Decimal] = mapped_column(BarPrice)
    low: Mapped[Decimal] = mapped_column(BarPrice)
    close: Mapped[Decimal] = mapped_column(BarPrice)
    volume: Mapped[Decimal] = mapped_column(BarPrice)
    source: Mapped[str] = mapped_column(String(32))
    ingestion_run_id: Mapped[int | None] = mapped_column(BigInteger)


class PriceBlock(Base):
    """One symbol's bars of one UTC year packed into `data` (quant_db.bar_copy.BLOCK_ROW rows in
    time order), kept equal to price_bars by ingestion in the same transaction: a read of ten
    years of 100 symbols is 1,000 rows instead of 252,000."""

    __tablename__ = "price_blocks"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bars: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)


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
