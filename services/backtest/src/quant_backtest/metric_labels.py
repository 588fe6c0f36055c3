"""Human labels and formats for metrics, shared by the terminal table and the HTML report."""

from __future__ import annotations

import math
from collections.abc import Callable

from quant_engine.metrics import Metrics


def format_pct(value: float) -> str:
    return _non_finite(value) or f"{value * 100:.2f}%"


def _money(value: float) -> str:
    return _non_finite(value) or f"{value:,.2f}"


def format_ratio(value: float) -> str:
    return _non_finite(value) or f"{value:.2f}"


def _count(value: float) -> str:
    return f"{value:,.0f}"


NO_CLOSED_TRADES = "no closed trades"
"""What a closed-trade statistic reads when no trade closed (the metric itself is None)."""


def _closed(fmt: Callable[[float], str]) -> Callable[[float | None], str]:
    """`fmt` for a closed-trade statistic, which is None when no trade closed."""

    def text(value: float | None) -> str:
        return NO_CLOSED_TRADES if value is None else fmt(value)

    return text


def format_plain(value: float) -> str:
    return _non_finite(value) or f"{value:,.6g}"


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return ""


_Format = Callable[[float], str] | Callable[[float | None], str]

_METRIC_ROWS: tuple[tuple[str, str, _Format], ...] = (
    ("Start equity", "start_equity", _money),
    ("End equity", "end_equity", _money),
    ("Total return", "total_return", format_pct),
    ("Annual return (CAGR)", "annual_return", format_pct),
    ("Annual volatility", "annual_volatility", format_pct),
    ("Sharpe ratio", "sharpe", format_ratio),
    ("Sortino ratio", "sortino", format_ratio),
    ("Probabilistic Sharpe (SR > 0)", "psr", format_pct),
    ("Calmar ratio", "calmar", format_ratio),
    ("Max drawdown", "max_drawdown", _money),
    ("Max drawdown %", "max_drawdown_pct", format_pct),
    ("Max drawdown duration (periods)", "max_drawdown_duration", _count),
    ("Closed trades", "num_trades", _count),
    ("Win rate", "win_rate", _closed(format_pct)),
    ("Profit factor", "profit_factor", _closed(format_ratio)),
    ("Average win", "avg_win", _closed(_money)),
    ("Average loss", "avg_loss", _closed(_money)),
    ("Average trade return", "avg_trade_return", _closed(format_pct)),
    ("Best trade", "best_trade", _closed(_money)),
    ("Worst trade", "worst_trade", _closed(_money)),
    ("Open trades at the end", "open_trades", _count),
    ("Open trade PnL (unrealised)", "open_trade_pnl", _money),
    ("Exposure", "exposure", format_pct),
    ("Turnover (per year)", "turnover", format_ratio),
    ("Total fees", "total_fees", _money),
    ("Periods per year", "periods_per_year", format_plain),
)


def metric_rows(metrics: Metrics) -> list[tuple[str, str]]:
    """(label, formatted value) for every metric, in report order."""
    return [(label, fmt(getattr(metrics, name))) for label, name, fmt in _METRIC_ROWS]
