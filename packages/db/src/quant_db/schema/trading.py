"""Orders (with their status history), fills, round-trip trades and positions, per run."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from quant_db.schema.base import Base


class Order(Base):
    """One order of a run and where it ended up; its fills point at it (orders 1:n fills)."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("run_id", "client_order_id"),
        Index("ix_orders_submitted_at", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    strategy_id: Mapped[str] = mapped_column(String(64), index=True)
    client_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(16))
    time_in_force: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal]
    limit_price: Mapped[Decimal | None]
    stop_price: Mapped[Decimal | None]
    # 16 fits the longest quant_domain.OrderStatus value, "partially_filled"
    status: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    filled_quantity: Mapped[Decimal]
    fill_price: Mapped[Decimal | None]  # quantity-weighted average over the order's fills
    reason: Mapped[str] = mapped_column(Text, default="")
    broker_order_id: Mapped[str | None] = mapped_column(String(64))
    # a stable reject code ("SHORT_NOT_ALLOWED"), "" when the order was not rejected
    code: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # when the order last changed: its last status or fill (simulated time in a backtest)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


ORDER_COLUMNS = (
    "strategy_id",
    "client_order_id",
    "symbol",
    "side",
    "type",
    "time_in_force",
    "quantity",
    "limit_price",
    "stop_price",
    "status",
    "submitted_at",
    "closed_at",
    "filled_quantity",
    "fill_price",
    "reason",
    "broker_order_id",
    "code",
    "updated_at",
)
"""A stored order's columns besides run_id, in the order the worker writes them."""


class Fill(Base):
    """One execution; many may belong to one order (a partial fill, then the rest)."""

    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("run_id", "fill_id"),
        ForeignKeyConstraint(
            ["run_id", "client_order_id"],
            ["orders.run_id", "orders.client_order_id"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    fill_id: Mapped[str] = mapped_column(String(64))
    client_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal]
    price: Mapped[Decimal]
    commission: Mapped[Decimal]
    slippage: Mapped[Decimal]
    ts: Mapped[datetime]


class Trade(Base):
    __tablename__ = "trades"
    __table_args__ = (UniqueConstraint("run_id", "trade_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    trade_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal]
    entry_time: Mapped[datetime]
    entry_price: Mapped[Decimal]
    exit_time: Mapped[datetime | None]
    exit_price: Mapped[Decimal | None]
    gross_pnl: Mapped[Decimal]
    commission: Mapped[Decimal]
    pnl: Mapped[Decimal]
    bars_held: Mapped[int] = mapped_column(Integer)
    # excursions per unit against entry_price (quant_engine excursions.py); null when unmeasured
    mfe: Mapped[Decimal | None]
    mae: Mapped[Decimal | None]
    given_back: Mapped[Decimal | None]
    regime: Mapped[str | None] = mapped_column(String(16))  # the regime at entry


TRADE_COLUMNS = (
    "trade_id",
    "symbol",
    "direction",
    "quantity",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "gross_pnl",
    "commission",
    "pnl",
    "bars_held",
    "mfe",
    "mae",
    "given_back",
    "regime",
)
"""A stored trade's columns besides its ids, in one order: what the worker writes, what exports read."""


class OrderEvent(Base):
    """One status an order of a paper or live session took, when, and why: its history.

    `idempotency_key` is the key of the report that caused the change (a bus event's, or one
    the OMS store derives, e.g. from a fill id), unique within the run, so a report delivered
    twice writes one row. Client order ids repeat across runs by design (deterministic), so the
    key's scope is the run.
    """

    __tablename__ = "order_events"
    __table_args__ = (
        UniqueConstraint("run_id", "idempotency_key"),
        ForeignKeyConstraint(
            ["run_id", "client_order_id"],
            ["orders.run_id", "orders.client_order_id"],
            ondelete="CASCADE",
        ),
        Index("ix_order_events_run_id_client_order_id", "run_id", "client_order_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    client_order_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    code: Mapped[str] = mapped_column(String(64), default="", server_default="")
    at: Mapped[datetime]
    idempotency_key: Mapped[str] = mapped_column(String(160))


class Position(Base):
    """What one strategy holds in one symbol in a paper or live session, kept by its fills.

    Two strategies trading one symbol have a row each (their netted view is a sum). Realised
    PnL is gross of commissions, as in quant_domain.Position; `commission` is the fees the
    strategy's fills in the symbol paid, so its net PnL is the difference.
    """

    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("run_id", "strategy_id", "symbol"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    strategy_id: Mapped[str] = mapped_column(String(64), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[Decimal]
    avg_price: Mapped[Decimal]
    realized_pnl: Mapped[Decimal]
    commission: Mapped[Decimal] = mapped_column(default=Decimal(0), server_default="0")
    last_price: Mapped[Decimal | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
