"""result.json: metrics, trades with their fills, orders, the equity curve and the metadata."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from quant_backtest.report_html import write_text
from quant_backtest.result import BacktestResult
from quant_domain import Fill, Trade
from quant_engine.metrics import drawdown_series, finite_or_none

FORMAT_VERSION = 2
"""2: an open trade's pnl is marked to the last close (mark_price, mark_time); 1: realised only."""


def fill_to_dict(fill: Fill) -> dict[str, Any]:
    return {
        "fill_id": fill.fill_id,
        "client_order_id": fill.client_order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "quantity": str(fill.quantity),
        "price": str(fill.price),
        "commission": str(fill.commission),
        "slippage": str(fill.slippage),
        "timestamp": fill.timestamp.isoformat(),
    }


def trade_to_dict(
    trade: Trade, fills_by_id: dict[str, Fill], marked_at: datetime | None = None
) -> dict[str, Any]:
    """A trade as result.json writes it; an open one also carries where and when it was marked.

    An open trade's gross_pnl and pnl include the unrealised PnL at `mark_price` (the last close
    at `marked_at`, the run's end); its exit fields stay null.
    """
    return {
        "trade_id": trade.trade_id,
        "symbol": trade.symbol,
        "direction": trade.direction.value,
        "status": "open" if trade.is_open else "closed",
        "quantity": str(trade.quantity),
        "entry_time": trade.entry_time.isoformat(),
        "entry_price": str(trade.entry_price),
        "exit_time": None if trade.exit_time is None else trade.exit_time.isoformat(),
        "exit_price": None if trade.exit_price is None else str(trade.exit_price),
        "mark_price": None if trade.mark_price is None else str(trade.mark_price),
        "mark_time": None
        if trade.mark_price is None or marked_at is None
        else marked_at.isoformat(),
        "gross_pnl": str(trade.gross_pnl),
        "commission": str(trade.commission),
        "pnl": str(trade.pnl),
        "return_pct": trade.return_pct,
        "bars_held": trade.bars_held,
        **{
            name: value if value is None or isinstance(value, float) else str(value)
            for name, value in trade.excursions().items()
        },
        "regime": trade.regime,
        "fills": [fill_to_dict(fills_by_id[f]) for f in trade.fill_ids],
    }


def result_to_dict(result: BacktestResult) -> dict[str, Any]:
    fills_by_id = {f.fill_id: f for f in result.fills}
    eq = result.equity
    drawdown = drawdown_series(eq["equity"].to_numpy())
    bench = result.benchmark.reindex(eq.index).to_numpy() if result.benchmark is not None else None
    curve = [
        {
            "timestamp": ts.isoformat(),
            "equity": round(float(row[0]), 6),
            "cash": round(float(row[1]), 6),
            "positions_value": round(float(row[2]), 6),
            "gross_exposure": finite_or_none(round(float(row[3]), 6)),
            "drawdown": round(float(drawdown[i]), 8),
            "benchmark": None if bench is None else finite_or_none(round(float(bench[i]), 6)),
        }
        for i, (ts, row) in enumerate(zip(eq.index, eq.to_numpy(), strict=True))
    ]
    return {
        "format_version": FORMAT_VERSION,
        "id": result.id,
        "strategy_id": result.strategy_id,
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "strategy_config": result.strategy_config,
        "backtest_config": result.backtest_config,
        "benchmark_symbol": result.benchmark_symbol,
        "metrics": result.metrics.as_dict(),
        "trades": [trade_to_dict(t, fills_by_id, result.end) for t in result.trades],
        "orders": [o.to_dict() for o in result.orders],
        "equity_curve": curve,
        "metadata": result.metadata.to_dict(),
    }


def write_json_report(result: BacktestResult, path: Path) -> Path:
    return write_text(path, json.dumps(result_to_dict(result), indent=1, allow_nan=False))
