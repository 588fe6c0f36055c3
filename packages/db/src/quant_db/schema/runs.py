"""Strategies, runs (backtests, walk-forwards, paper and live sessions) and their time series."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Computed,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    Uuid,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from quant_db.schema.base import Base
from quant_db.schema.identity import enum_column


class Mode(StrEnum):
    BACKTEST = "BACKTEST"
    PAPER = "PAPER"
    LIVE = "LIVE"


class RunType(StrEnum):
    BACKTEST = "backtest"
    WALK_FORWARD = "walk_forward"
    PAPER = "paper"
    LIVE = "live"
    TRAIN = "train"  # trains a model from a training config (ADR 0053); no strategy


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})
"""The statuses of a run that has ended."""

RUN_LABEL_MAX = 120
"""Longest label a person may give a run."""

SORTABLE_METRICS = (
    "total_return",
    "annual_return",
    "sharpe",
    "max_drawdown_pct",
    "win_rate",
    "num_trades",
)
"""Headline metrics a run listing sorts by; each has a `key_<name>` column (ADR 0018)."""


def key_metric_sql(name: str) -> str:
    """SQL of the generated `key_<name>` column: the completed run's stored figure as float8.

    Null unless the run completed and stored a JSON number (as the listing's key metrics are);
    nested CASEs because PostgreSQL does not promise to evaluate AND's operands in order, and a
    number beyond float8's range (valid JSON) must give null rather than fail the worker's write.
    """
    value = f"metrics -> '{name}'"
    return (
        f"CASE WHEN status = 'completed' AND jsonb_typeof({value}) = 'number' "
        f"THEN CASE WHEN abs(({value})::numeric) < 1e300 THEN ({value})::numeric::float8 END END"
    )


class Strategy(Base):
    """A strategy instance: its config (as loaded from YAML), status and trading mode."""

    __tablename__ = "strategies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    class_path: Mapped[str] = mapped_column(String(256))
    config: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="active")
    mode: Mapped[Mode] = mapped_column(enum_column(Mode, "mode"), default=Mode.BACKTEST)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Run(Base):
    """One run with everything needed to reproduce it and to watch it progress."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_strategy_created", "strategy_id", "created_at"),
        # at most one reference run per strategy: the one its headline shows (ADR 0018)
        Index(
            "ux_runs_reference_per_strategy",
            "strategy_id",
            unique=True,
            postgresql_where=text("is_reference"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # null for a training run, which trains a model rather than runs a strategy (ADR 0053)
    strategy_id: Mapped[str | None] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    type: Mapped[RunType] = mapped_column(enum_column(RunType, "run_type"))
    status: Mapped[RunStatus] = mapped_column(
        enum_column(RunStatus, "run_status"), default=RunStatus.QUEUED, index=True
    )
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    processed: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    config: Mapped[dict[str, Any]]  # strategy config snapshot
    backtest_config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    repro: Mapped[dict[str, Any]] = mapped_column(default=dict)  # code version, hashes, seed
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # what a person says about the run, and whether it is its strategy's reference (ADR 0018)
    label: Mapped[str | None] = mapped_column(String(RUN_LABEL_MAX))
    is_reference: Mapped[bool] = mapped_column(default=False, server_default=false())
    # the params the request overrode (null: not recorded, e.g. runs queued before 0007)
    params_overrides: Mapped[dict[str, Any] | None]
    # the headline metrics as plain columns PostgreSQL keeps in step with `metrics`, so a sort
    # by one reads eight bytes per run, not each run's (possibly 70 kB) metrics blob
    key_total_return: Mapped[float | None] = mapped_column(
        Float, Computed(key_metric_sql("total_return"), persisted=True)
    )
    key_annual_return: Mapped[float | None] = mapped_column(
        Float, Computed(key_metric_sql("annual_return"), persisted=True)
    )
    key_sharpe: Mapped[float | None] = mapped_column(
        Float, Computed(key_metric_sql("sharpe"), persisted=True)
    )
    key_max_drawdown_pct: Mapped[float | None] = mapped_column(
        Float, Computed(key_metric_sql("max_drawdown_pct"), persisted=True)
    )
    key_win_rate: Mapped[float | None] = mapped_column(
        Float, Computed(key_metric_sql("win_rate"), persisted=True)
    )
    key_num_trades: Mapped[float | None] = mapped_column(
        Float, Computed(key_metric_sql("num_trades"), persisted=True)
    )


class RunReport(Base):
    """The run's self-contained HTML report, gzip-compressed."""

    __tablename__ = "run_reports"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    html_gzip: Mapped[bytes] = mapped_column(LargeBinary)


class EquityPoint(Base):
    """Account value per step of a run (a hypertable when TimescaleDB is present)."""

    __tablename__ = "equity_points"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    equity: Mapped[Decimal]
    cash: Mapped[Decimal]
    positions_value: Mapped[Decimal]
    gross_exposure: Mapped[float] = mapped_column(Float)


EQUITY_COLUMNS = ("ts", "equity", "cash", "positions_value", "gross_exposure")
"""An equity point's columns besides its run, in one order: what the worker writes, what exports
read."""


class MetricPoint(Base):
    """A named metric sampled over time (rolling Sharpe, drawdown, ...)."""

    __tablename__ = "metric_points"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    value: Mapped[float] = mapped_column(Float)
