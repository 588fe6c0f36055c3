"""One self-contained HTML page per backtest run: metrics, charts, metadata and assumptions."""

from __future__ import annotations

import math
from collections.abc import Iterable
from html import escape
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from quant_backtest.metric_labels import format_plain, metric_rows
from quant_backtest.report_open_trades import open_trades_section
from quant_backtest.result import BacktestResult, RunMetadata
from quant_domain import OrderSide, Trade
from quant_engine.metrics import Metrics, drawdown_series, monthly_returns, rolling_sharpe

MAX_LINE_POINTS = 20_000
"""Line traces longer than this are thinned to each bucket's min and max (fills are all kept)."""

MAX_PRICE_SYMBOLS = 4

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1200px;color:#1f2933;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.sub{color:#616e7c;margin-top:0}
table{border-collapse:collapse;font-size:.9rem}
td,th{padding:.25rem .75rem;border-bottom:1px solid #e4e7eb;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.metrics{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:0 2rem}
.note{background:#f5f7fa;border-left:4px solid #9aa5b1;padding:.5rem 1rem;font-size:.9rem}
code{font-size:.85rem}
"""
_MARGIN = {"l": 60, "r": 20, "t": 30, "b": 40}


def write_html_report(result: BacktestResult, path: Path) -> Path:
    """Write the run's report to `path` (parents created) and return it.

    The page is self-contained: plotly.js is inlined once and nothing loads from the network.
    """
    return write_text(path, render_html_report(result))


def render_html_report(result: BacktestResult) -> str:
    """The report page as one HTML string; every user-supplied string is escaped."""
    charts = Charts(_MARGIN)
    figures = [
        ("Equity vs benchmark", _equity_figure(result)),
        ("Drawdown (%)", _drawdown_figure(result)),
        ("Monthly returns (%)", _monthly_figure(result)),
        *((f"Trades: {symbol}", _trades_figure(result, symbol)) for symbol in _symbols(result)),
        *(
            [("Adverse excursion against return (%)", _excursion_figure(measured))]
            if (measured := _measured_closed(result))
            else []
        ),
        (_rolling_title(len(result.equity)), _rolling_figure(result)),
    ]
    chart_html = "\n".join(
        f"<h2>{escape(title)}</h2>\n{charts.div(figure)}" for title, figure in figures
    )
    return html_page(
        f"Backtest {result.strategy_id} — run {result.id}",
        f"{result.start.isoformat()} → {result.end.isoformat()}",
        [
            "<h2>Metrics</h2>",
            metrics_tables(result.metrics),
            open_trades_section(result.trades),
            excursion_section(result.trades),
            regime_section(result.trades),
            "<h2>Backtest assumptions</h2>",
            _assumptions(result),
            chart_html,
            "<h2>Run metadata</h2>",
            key_value_table(metadata_rows(result.metadata), code=True),
        ],
    )


def write_text(path: Path, text: str) -> Path:
    """Write `text` to `path` (parents created) and return `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def html_page(title: str, subtitle: str, parts: Iterable[str], extra_css: str = "") -> str:
    """A whole report page: head with the shared style, title, subtitle, then the non-empty parts.

    `title` and `subtitle` are escaped here; `parts` are HTML already.
    """
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}{extra_css}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(subtitle)}</p>',
        *parts,
        "</body></html>",
    ]
    return "\n".join(line for line in lines if line)


class Charts:
    """Renders one page's charts with that page's margins; only the first inlines plotly.js.

    Render them in page order: divs are numbered chart-0, chart-1, ... as they are rendered.
    """

    def __init__(self, margin: dict[str, int]) -> None:
        self.margin = margin
        self.count = 0

    def div(self, figure: go.Figure, height: int = 420) -> str:
        figure.update_layout(height=height, margin=self.margin, template="plotly_white")
        html: str = pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=self.count == 0,
            div_id=f"chart-{self.count}",
            default_height=f"{height}px",
            config={"displaylogo": False, "responsive": True},
        )
        self.count += 1
        return html


def key_value_table(rows: Iterable[tuple[str, str]], *, code: bool = False) -> str:
    """A two-column table, label in <th>: values right-aligned numbers, or <code> with `code`."""
    cell = "<td><code>{}</code></td>" if code else '<td class="num">{}</td>'
    body = "".join(f"<tr><th>{escape(k)}</th>{cell.format(escape(v))}</tr>" for k, v in rows)
    return f"<table>{body}</table>"


def bullet_note(lines: Iterable[str]) -> str:
    """The grey note box holding one bullet per (escaped) line."""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<div class="note"><ul>{items}</ul></div>'


def metrics_tables(metrics: Metrics) -> str:
    """Every metric, labelled and formatted, in two side-by-side tables."""
    rows = metric_rows(metrics)
    half = (len(rows) + 1) // 2
    tables = (key_value_table(part) for part in (rows[:half], rows[half:]))
    return f'<div class="metrics">{"".join(tables)}</div>'


def metadata_rows(meta: RunMetadata) -> list[tuple[str, str]]:
    """The reproducibility facts every report shows, as (label, value)."""
    rows = [
        ("Code version", meta.code_version),
        ("Config hash", meta.config_hash),
        ("Data fingerprint", meta.data_fingerprint),
        ("Seed", str(meta.seed)),
        ("Data source", meta.data_source or "not recorded"),
        ("Created at", meta.created_at.isoformat()),
        *([("Risk policy", risk_line(meta.risk))] if meta.risk is not None else []),
        *([("Model", model_line(meta.model))] if meta.model is not None else []),
    ]
    if meta.engine:
        rows.append(("Engine", "compiled kernel" if meta.engine == "compiled" else "event loop"))
    return rows


def model_line(model: dict[str, Any]) -> str:
    """The registry model a run traded, its validation, and the run's out-of-sample part."""
    parts = [
        f"{model['name']}:{model['version']} (#{model['id']}, artifact {model['sha256'][:12]}), "
        f"trained on data to {model['train_end']}"
    ]
    if model.get("validation_oos_sharpe") is not None:
        parts.append(f"validation OOS Sharpe {model['validation_oos_sharpe']:.2f}")
    oos = model.get("out_of_sample")
    if oos:
        parts.append(
            f"this run after {model['train_end']}: Sharpe {oos['sharpe']:.2f}, return "
            f"{oos['total_return']:.2%}, max drawdown {oos['max_drawdown_pct']:.2%}, "
            f"{oos['bars']} bars"
        )
    else:
        parts.append("this run lies inside the training window: no out-of-sample part")
    return "; ".join(parts)


def risk_line(risk: dict[str, Any]) -> str:
    """Which policy (when the run was queued with one by name) and where its breakers tripped
    ("none tripped" when they never did)."""
    name, version = risk.get("name"), risk.get("version")
    origin = ""
    if name:
        origin = f"{name}{'' if version is None else f' (version {version})'}: "
    trips = [t for t in risk.get("trips", []) if t["rule"] != "daily_loss_release"]
    if not trips:
        return f"{origin}breakers on; none tripped"
    return origin + "; ".join(
        f"{t['rule']} tripped on the bar of {t['at']} (step {t['step']}): "
        f"{t['value']:.2%} against a limit of {t['limit']:.2%} -> {t['mode']}"
        for t in trips
    )


def _assumptions(result: BacktestResult) -> str:
    config = result.backtest_config
    timing = str(config.get("fill_timing", "close"))
    where = "the next bar's open" if timing == "next_open" else f"the signal bar's {timing}"
    slippage = config_number(config, "slippage_bps", "{:g}")
    per_trade = config_number(config, "commission_per_trade", "{:,.2f}")
    bps = config_number(config, "commission_bps", "{:g}")
    lines = [
        f"Market orders fill at {where} × (1 ± slippage): buys pay {slippage} bps more, "
        f"sells receive {slippage} bps less.",
        f"Commission: {per_trade} per trade plus {bps} bps of traded notional.",
        f"Ratios are annualised with {format_plain(result.metrics.periods_per_year)} periods per year; "
        "trade statistics use net PnL (after commissions) of closed trades only.",
        "A position still held at the end is an open trade: it is marked at the last close, its "
        "PnL is unrealised (less the commissions paid so far) and it is counted apart, never in "
        "the closed-trade statistics.",
    ]
    return bullet_note(lines)


def config_number(config: dict[str, Any], key: str, pattern: str) -> str:
    value = config.get(key)
    if value is None:
        return "(not recorded)"
    try:
        return pattern.format(float(value))
    except (TypeError, ValueError):
        return str(value)


def _equity_figure(result: BacktestResult) -> go.Figure:
    figure = go.Figure()
    equity = result.equity["equity"]
    figure.add_trace(line_trace(equity.index, equity.to_numpy(dtype=np.float64), "Strategy"))
    bench = benchmark_trace(result.benchmark, result.benchmark_symbol)
    if bench is not None:
        figure.add_trace(bench)
    figure.update_layout(yaxis_title="Equity", hovermode="x unified")
    return figure


def _drawdown_figure(result: BacktestResult) -> go.Figure:
    equity = result.equity["equity"]
    depth = drawdown_series(equity.to_numpy(dtype=np.float64)) * 100.0
    trace = line_trace(equity.index, depth, "Drawdown")
    trace.update(fill="tozeroy", line={"color": "#c81e1e"})
    figure = go.Figure(trace)
    figure.update_layout(yaxis_title="% below peak", yaxis_ticksuffix="%")
    return figure


def _monthly_figure(result: BacktestResult) -> go.Figure:
    table = monthly_returns(result.equity["equity"]) * 100.0
    values = table.to_numpy(dtype=np.float64)
    text = [["" if math.isnan(v) else f"{v:.1f}%" for v in row] for row in values]
    heatmap = go.Heatmap(
        z=values,
        x=list(_MONTHS),
        y=[str(year) for year in table.index],
        text=text,
        texttemplate="%{text}",
        colorscale="RdYlGn",
        zmid=0.0,
        hovertemplate="%{y} %{x}: %{z:.2f}%<extra></extra>",
        colorbar={"ticksuffix": "%"},
    )
    figure = go.Figure(heatmap)
    figure.update_yaxes(type="category", autorange="reversed")
    return figure


def _trades_figure(result: BacktestResult, symbol: str) -> go.Figure:
    figure = go.Figure()
    bars = result.prices.get(symbol)
    if bars is not None and "close" in bars:
        close = bars["close"]
        figure.add_trace(line_trace(close.index, close.to_numpy(dtype=np.float64), "Close"))
    fills = [f for f in result.fills if f.symbol == symbol]
    for side, marker, colour in (
        (OrderSide.BUY, "triangle-up", "#15803d"),
        (OrderSide.SELL, "triangle-down", "#b91c1c"),
    ):
        chosen = [f for f in fills if f.side is side]
        figure.add_trace(
            go.Scatter(
                x=[f.timestamp for f in chosen],
                y=[float(f.price) for f in chosen],
                mode="markers",
                name=side.value.capitalize(),
                marker={"symbol": marker, "size": 11, "color": colour},
                text=[escape(f"{side.value} {f.quantity} @ {f.price}") for f in chosen],
                hovertemplate="%{x}<br>%{text}<extra></extra>",
            )
        )
    held = [t for t in result.trades if t.is_open and t.symbol == symbol and t.mark_price]
    if held:
        figure.add_trace(
            go.Scatter(
                x=[result.end] * len(held),
                y=[float(t.mark_price or 0) for t in held],
                mode="markers",
                name="Open (marked)",
                marker={"symbol": "diamond-open", "size": 12, "color": "#1f2933"},
                text=[
                    escape(f"open {t.direction.value}, PnL {t.pnl:,.2f} unrealised") for t in held
                ],
                hovertemplate="%{x}<br>%{text}<extra></extra>",
            )
        )
    figure.update_layout(yaxis_title=escape(symbol))
    return figure


def _measured_closed(result: BacktestResult) -> list[Trade]:
    return [t for t in result.trades if not t.is_open and t.mae is not None]


def _excursion_figure(trades: list[Trade]) -> go.Figure:
    """Each closed trade at its MAE (x, % of entry price) and net return (y, %), winners apart."""
    figure = go.Figure()
    for name, colour, chosen in (
        ("Winners", "#15803d", [t for t in trades if t.pnl >= 0]),
        ("Losers", "#b91c1c", [t for t in trades if t.pnl < 0]),
    ):
        figure.add_trace(
            go.Scatter(
                x=[100 * float((t.mae or 0) / t.entry_price) for t in chosen],
                y=[100 * t.return_pct for t in chosen],
                mode="markers",
                name=name,
                marker={"size": 7, "color": colour, "opacity": 0.7},
                text=[escape(f"{t.symbol} {t.entry_time:%Y-%m-%d}") for t in chosen],
                hovertemplate="%{text}<br>MAE %{x:.2f}%<br>return %{y:.2f}%<extra></extra>",
            )
        )
    figure.update_layout(xaxis_title="MAE (% of entry price)", yaxis_title="net return (%)")
    return figure


def excursion_section(trades: Iterable[Trade]) -> str:
    """Average MFE, MAE and profit given back of the closed trades, winners and losers apart."""
    closed = [t for t in trades if not t.is_open and t.mfe is not None]
    if not closed:
        return ""
    rows = []
    for name, chosen in (
        ("all closed trades", closed),
        ("winners", [t for t in closed if t.pnl >= 0]),
        ("losers", [t for t in closed if t.pnl < 0]),
    ):
        if not chosen:
            continue
        means = [
            sum(float(t.excursions()[f"{k}_pct"] or 0.0) for t in chosen) / len(chosen)
            for k in ("mfe", "mae", "given_back")
        ]
        cells = "".join(f'<td class="num">{100 * m:.2f}%</td>' for m in means)
        rows.append(f"<tr><th>{escape(name)} ({len(chosen)})</th>{cells}</tr>")
    head = "<tr><th></th><th>mean MFE</th><th>mean MAE</th><th>mean given back</th></tr>"
    return (
        "<h2>Trade excursions</h2>"
        f"<table>{head}{''.join(rows)}</table>"
        '<p class="sub">Per trade, as % of its entry price, over the bars it held '
        "(docs/backtest-assumptions.md, rule 31a).</p>"
    )


REGIME_ORDER = ("bull", "bear", "sideways", "high_volatility")


def regime_section(trades: Iterable[Trade]) -> str:
    """Closed trades grouped by the regime at entry: count, win rate, mean return, mean MAE and
    total net PnL (trades entered while the regime warmed up are a row of their own)."""
    closed = [t for t in trades if not t.is_open and t.mfe is not None]
    if not closed:
        return ""
    groups: dict[str, list[Trade]] = {}
    for t in closed:
        groups.setdefault(t.regime or "warming up", []).append(t)
    rows = []
    for name in (*REGIME_ORDER, "warming up"):
        chosen = groups.get(name)
        if not chosen:
            continue
        n = len(chosen)
        wins = sum(1 for t in chosen if t.pnl > 0) / n
        mean_return = sum(t.return_pct for t in chosen) / n
        mean_mae = sum(float(t.excursions()["mae_pct"] or 0.0) for t in chosen) / n
        total = sum(float(t.pnl) for t in chosen)
        rows.append(
            f'<tr><th>{escape(name.replace("_", " "))}</th><td class="num">{n}</td>'
            f'<td class="num">{100 * wins:.1f}%</td><td class="num">{100 * mean_return:.2f}%</td>'
            f'<td class="num">{100 * mean_mae:.2f}%</td><td class="num">{total:,.2f}</td></tr>'
        )
    head = (
        "<tr><th>regime at entry</th><th>trades</th><th>win rate</th><th>mean return</th>"
        "<th>mean MAE</th><th>net PnL</th></tr>"
    )
    return (
        "<h2>Trades by regime at entry</h2>"
        f"<table>{head}{''.join(rows)}</table>"
        '<p class="sub">The regime of the symbol when each closed trade entered: its true range '
        "against its own calm level and its trend, from past bars only "
        "(docs/backtest-assumptions.md, 31b).</p>"
    )


def _rolling_window(n_points: int) -> int:
    return max(2, min(126, n_points // 4))


def _rolling_title(n_points: int) -> str:
    return f"Rolling Sharpe ({_rolling_window(n_points)} periods)"


def _rolling_figure(result: BacktestResult) -> go.Figure:
    equity = result.equity["equity"]
    window = _rolling_window(len(equity))
    values = rolling_sharpe(
        equity.to_numpy(dtype=np.float64), window, result.metrics.periods_per_year
    )
    figure = go.Figure(line_trace(equity.index[1:], values, "Rolling Sharpe"))
    figure.update_layout(yaxis_title="Annualised Sharpe")
    return figure


def _symbols(result: BacktestResult) -> list[str]:
    ordered = dict.fromkeys(chain(result.prices, (f.symbol for f in result.fills)))
    return list(ordered)[:MAX_PRICE_SYMBOLS]


def line_trace(index: pd.Index, values: np.ndarray, name: str) -> go.Scatter:
    """A line of `values` over `index`, thinned by `thin_positions`; `name` is not escaped."""
    keep = thin_positions(values)
    return go.Scatter(x=index[keep], y=values[keep], mode="lines", name=name)


def benchmark_trace(series: pd.Series | None, symbol: str | None) -> go.Scatter | None:
    """The buy-and-hold benchmark line, or None when there is no benchmark curve to draw."""
    if series is None or series.empty:
        return None
    label = escape(f"Buy & hold {symbol or 'benchmark'}")
    return line_trace(series.index, series.to_numpy(dtype=np.float64), label)


def thin_positions(values: np.ndarray, limit: int = MAX_LINE_POINTS) -> np.ndarray:
    """Positions to plot so a line keeps its shape in at most `limit` points.

    Short series come back whole; longer ones keep the first and last point and, per bucket,
    the positions of the minimum and the maximum (NaN never wins either).
    """
    n = values.size
    if n <= limit:
        return np.arange(n)
    buckets = max(1, (limit - 2) // 2)
    size = math.ceil(n / buckets)
    padded = np.full(math.ceil(n / size) * size, np.nan)
    padded[:n] = values
    rows = padded.reshape(-1, size)
    finite = np.isfinite(rows)
    starts = np.arange(rows.shape[0]) * size
    lows = np.argmin(np.where(finite, rows, np.inf), axis=1) + starts
    highs = np.argmax(np.where(finite, rows, -np.inf), axis=1) + starts
    keep = np.unique(np.concatenate([lows, highs, [0, n - 1]]))
    return keep[keep < n]
