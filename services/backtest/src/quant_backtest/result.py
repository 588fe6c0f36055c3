"""The outcome of one backtest run, in the shape reports, files and (later) the API share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from quant_domain import Fill, Trade
from quant_engine.metrics import Metrics
from quant_engine.oms import OrderRecord


@dataclass(frozen=True, slots=True)
class RunMetadata:
    """Everything needed to reproduce a run: same code, same config, same data, same seed."""

    code_version: str
    config_hash: str
    data_fingerprint: str
    seed: int
    created_at: datetime
    python_version: str
    platform: str
    package_versions: dict[str, str] = field(default_factory=dict)
    data_source: str = ""
    engine: str = ""  # the path that ran it: "event" or "compiled" ("" for runs made before)
    # with a risk policy (ADR 0038): the policy and where its breakers tripped; None without
    risk: dict[str, Any] | None = None
    # with a registry model (ADR 0052): which one, its validation, and this run's metrics after
    # its training window (the out-of-sample part); None for model-free strategies
    model: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Every field by name, JSON-ready: created_at as an ISO 8601 string; `risk` only when
        the run had a policy (runs without one keep their shape)."""
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        if data["risk"] is None:
            del data["risk"]
        if data["model"] is None:
            del data["model"]
        return data


@dataclass(slots=True)
class BacktestResult:
    """One run: config, equity curve, trades, fills, orders, metrics and reproducibility metadata.

    `equity` is indexed by UTC timestamp with float columns equity, cash, positions_value,
    gross_exposure (gross position value over equity). `benchmark` is a buy-and-hold equity curve
    of the same starting capital on the benchmark symbol, on the same index. `prices` holds the
    bars the run used, per symbol, in the market-data frame shape.
    """

    id: str
    strategy_id: str
    strategy_config: dict[str, Any]
    backtest_config: dict[str, Any]
    start: datetime
    end: datetime
    equity: pd.DataFrame
    benchmark: pd.Series | None
    benchmark_symbol: str | None
    trades: list[Trade]
    fills: list[Fill]
    orders: list[OrderRecord]
    metrics: Metrics
    metadata: RunMetadata
    prices: dict[str, pd.DataFrame]
