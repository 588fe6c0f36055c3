"""Human labels and formats for metrics, shared by the terminal table and the HTML report."""

from __future__ import annotations

import math
from collections.abc import Callable

from quant_engine.metrics import Metrics


def _pct(value: float) -> str:
    return _non_finite(value) or f"{value * 100:.2f}%"


def _money(value: float) -> str:
    return _non_finite(value) or f"{value:,.2f}"


def _ratio(value: float) -> str:
    return _non_finite(value) or f"{value:.2f}"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def format_plain(value: float) -> str:
    return _non_finite(value) or f"{value:,.6g}"


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return ""


_METRIC_ROWS: tuple[tuple[str, str, Callable[[float], str]], ...] = (
    ("Start equity", "start_equity", _money),
    ("End equity", "end_equity", _money),
    ("Total return", "total_return", _pct),
    ("Annual return (CAGR)", "annual_return", _pct),
    ("Annual volatility", "annual_volatility", _pct),
    ("Sharpe ratio", "sharpe", _ratio),
    ("Sortino ratio", "sortino", _ratio),
    ("Probabilistic Sharpe (SR > 0)", "psr", _pct),
    ("Calmar ratio", "calmar", _ratio),
    ("Max drawdown", "max_drawdown", _money),
    ("Max drawdown %", "max_drawdown_pct", _pct),
    ("Max drawdown duration (periods)", "max_drawdown_duration", _count),
    ("Closed trades", "num_trades", _count),
    ("Win rate", "win_rate", _pct),
    ("Profit factor", "profit_factor", _ratio),
    ("Average win", "avg_win", _money),
    ("Average loss", "avg_loss", _money),
    ("Average trade return", "avg_trade_return", _pct),
    ("Best trade", "best_trade", _money),
    ("Worst trade", "worst_trade", _money),
    ("Exposure", "exposure", _pct),
    ("Turnover (per year)", "turnover", _ratio),
    ("Total fees", "total_fees", _money),
    ("Periods per year", "periods_per_year", format_plain),
)


def metric_rows(metrics: Metrics) -> list[tuple[str, str]]:
    """(label, formatted value) for every metric, in report order."""
    return [(label, fmt(getattr(metrics, name))) for label, name, fmt in _METRIC_ROWS]
