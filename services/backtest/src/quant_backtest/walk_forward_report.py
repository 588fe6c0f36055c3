"""One self-contained HTML page per walk-forward run: windows, chosen parameters, overfitting."""

from __future__ import annotations

import math
from datetime import date, timedelta
from html import escape
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from quant_backtest.metric_labels import format_pct, format_ratio
from quant_backtest.report_html import (
    Charts,
    benchmark_trace,
    html_page,
    key_value_table,
    line_trace,
    metrics_tables,
    write_text,
)
from quant_backtest.walk_forward_model import WalkForwardResult, WindowResult
from quant_backtest.walk_forward_notes import assumptions_note, metadata_table
from quant_backtest.walk_forward_surface import (
    format_value,
    grid_parameters,
    is_number,
    objective_surface,
)
from quant_engine.overfitting import READ_DEGRADATION, READ_DSR, READ_PBO

NOT_COMPUTED = "not enough data or fewer than two combinations"

_IN_SAMPLE = "#93c5fd"
_OUT_OF_SAMPLE = "#16a34a"
_SKIPPED = "#cbd2d9"
_DARK_INK = "#1f2933"
_LIGHT_INK = "#ffffff"
_MAX_WINDOW_LABELS = 24  # beyond this the "W<n>" labels over the equity chart overlap
_MARGIN = {"l": 70, "r": 20, "t": 40, "b": 40}

_EXTRA_CSS = """
h3{font-size:1rem;margin-top:1.5rem}
tr.skipped td{color:#9aa5b1}
.wide{overflow-x:auto}
"""


def write_walk_forward_report(result: WalkForwardResult, path: Path) -> Path:
    """Write the walk-forward report to `path` (parents created) and return it.

    The page is self-contained: plotly.js is inlined once and nothing loads from the network.
    """
    return write_text(path, render_walk_forward_report(result))


def render_walk_forward_report(result: WalkForwardResult) -> str:
    """The report page as one HTML string; every user-supplied string is escaped."""
    charts = Charts(_MARGIN)
    # A list literal evaluates in order, so the first chart rendered (the one carrying plotly.js)
    # is also the first on the page.
    parts = [
        "<h2>Out-of-sample metrics</h2>",
        metrics_tables(result.oos_metrics),
        "<h2>Out-of-sample equity</h2>",
        charts.div(_equity_figure(result)),
        "<h2>Window timeline</h2>",
        charts.div(_timeline_figure(result), _rows_height(len(result.windows), 28)),
        "<h2>Chosen parameters per window</h2>",
        _chosen_table(result),
        _parameter_chart(result, charts),
        "<h2>Parameter stability</h2>",
        _stability_table(result),
        _surface_section(result, charts),
        "<h2>Overfitting statistics</h2>",
        _dsr_section(result),
        _pbo_section(result, charts),
        _degradation_section(result, charts),
        "<h2>Walk-forward assumptions</h2>",
        assumptions_note(result),
        "<h2>Run metadata</h2>",
        metadata_table(result),
    ]
    title = f"Walk-forward {result.strategy_id} — run {result.id}"
    return html_page(title, _summary(result), parts, extra_css=_EXTRA_CSS)


def _rows_height(rows: int, per_row: int, minimum: int = 260, maximum: int = 2400) -> int:
    return max(minimum, min(maximum, 90 + rows * per_row))


def _summary(result: WalkForwardResult) -> str:
    wf = result.walk_forward_config
    n_ok = sum(w.status == "ok" for w in result.windows)
    n = len(result.windows)
    parts = [
        f"{n} window{'s' if n != 1 else ''} ({n_ok} ok, {n - n_ok} skipped)",
        f"grid of {len(result.grid):,} combination{'s' if len(result.grid) != 1 else ''}",
        f"objective: {wf.get('objective', 'not recorded')}",
        f"{wf.get('window_type', 'not recorded')} windows",
        f"fast path: {'yes' if result.fast_path else 'no'}",
        f"workers: {result.workers}",
    ]
    if result.windows:
        first, last = result.windows[0].window, result.windows[-1].window
        parts.append(f"out-of-sample {first.out_of_sample_start} → {last.out_of_sample_end}")
    return " · ".join(parts)


def _equity_figure(result: WalkForwardResult) -> go.Figure:
    figure = go.Figure()
    if "equity" in result.equity:
        equity = result.equity["equity"]
        values = equity.to_numpy(dtype=np.float64)
        figure.add_trace(line_trace(equity.index, values, "Walk-forward (out-of-sample)"))
    bench = benchmark_trace(result.benchmark, result.benchmark_symbol)
    if bench is not None:
        figure.add_trace(bench)
    for item in result.windows:
        window = item.window
        start = window.out_of_sample_start.isoformat()
        figure.add_shape(
            type="line",
            x0=start,
            x1=start,
            xref="x",
            y0=0,
            y1=1,
            yref="paper",
            line={"dash": "dot", "width": 1, "color": "#7b8794"},
        )
        if item.status != "ok":
            figure.add_shape(
                type="rect",
                x0=start,
                x1=_day_after(window.out_of_sample_end),
                xref="x",
                y0=0,
                y1=1,
                yref="paper",
                fillcolor=_SKIPPED,
                opacity=0.4,
                line={"width": 0},
                layer="below",
            )
        if len(result.windows) <= _MAX_WINDOW_LABELS:
            figure.add_annotation(
                x=start,
                y=1,
                yref="paper",
                text=f"W{window.number}",
                showarrow=False,
                yanchor="bottom",
                xanchor="left",
                font={"size": 10, "color": "#616e7c"},
            )
    figure.update_layout(yaxis_title="Equity", hovermode="x unified")
    return figure


def _timeline_figure(result: WalkForwardResult) -> go.Figure:
    figure = go.Figure()
    skipped = [w for w in result.windows if w.status != "ok"]
    ok = [w for w in result.windows if w.status == "ok"]
    spans = [
        ("In-sample", _IN_SAMPLE, result.windows, True, ""),
        ("Out-of-sample", _OUT_OF_SAMPLE, ok, False, ""),
        ("Out-of-sample (skipped)", _SKIPPED, skipped, False, "skipped"),
    ]
    for name, colour, windows, in_sample, text in spans:
        if not windows:
            continue
        bounds = [_span(w, in_sample=in_sample) for w in windows]
        figure.add_trace(
            go.Bar(
                orientation="h",
                y=[f"W{w.window.number}" for w in windows],
                base=[start.isoformat() for start, _ in bounds],
                x=[((end - start).days + 1) * 86_400_000 for start, end in bounds],
                name=name,
                marker_color=colour,
                text=[text] * len(windows) if text else None,
                textposition="inside",
                insidetextanchor="middle",
                customdata=[[start.isoformat(), end.isoformat()] for start, end in bounds],
                hovertemplate=f"%{{y}} {name.lower()}: "
                "%{customdata[0]} → %{customdata[1]}<extra></extra>",
            )
        )
    figure.update_layout(barmode="overlay", xaxis_type="date", bargap=0.25)
    figure.update_yaxes(type="category", autorange="reversed")
    return figure


def _span(item: WindowResult, *, in_sample: bool) -> tuple[date, date]:
    w = item.window
    if in_sample:
        return w.in_sample_start, w.in_sample_end
    return w.out_of_sample_start, w.out_of_sample_end


def _day_after(day: date) -> str:
    return (day + timedelta(days=1)).isoformat()


def _chosen_table(result: WalkForwardResult) -> str:
    names = list(grid_parameters(result))
    headers = [
        "Window",
        "In-sample",
        "Out-of-sample",
        *names,
        "IS score",
        "OOS score",
        "IS trades",
        "Plateau",
        "IS DSR",
        "Status",
    ]
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    rows = [f"<tr>{head}</tr>"]
    for item in result.windows:
        w = item.window
        chosen = item.chosen_params or {}
        index = item.chosen_index
        trades = None if index is None else item.trade_counts[index]
        numbers = [
            *(format_value(chosen[n]) if n in chosen else "—" for n in names),
            _score(item.in_sample_score),
            _score(item.out_of_sample_score),
            "—" if trades is None else f"{trades:,}",
            "—" if item.plateau is None else format_ratio(item.plateau),
            "—" if item.in_sample_dsr is None else format_pct(item.in_sample_dsr.dsr),
        ]
        status = item.status + (f": {item.note}" if item.note else "")
        cells = [
            f'<td class="num">{w.number}</td>',
            f"<td>{w.in_sample_start} → {w.in_sample_end}</td>",
            f"<td>{w.out_of_sample_start} → {w.out_of_sample_end}</td>",
            *(f'<td class="num">{escape(text)}</td>' for text in numbers),
            f"<td>{escape(status)}</td>",
        ]
        css = ' class="skipped"' if item.status != "ok" else ""
        rows.append(f"<tr{css}>{''.join(cells)}</tr>")
    return f'<div class="wide"><table>{"".join(rows)}</table></div>'


def _parameter_chart(result: WalkForwardResult, charts: Charts) -> str:
    grid = grid_parameters(result)
    numeric = [name for name, values in grid.items() if all(is_number(v) for v in values)]
    if not numeric or not result.windows:
        return ""
    figure = make_subplots(
        rows=len(numeric), cols=1, shared_xaxes=True, subplot_titles=[escape(n) for n in numeric]
    )
    numbers = [w.window.number for w in result.windows]
    for row, name in enumerate(numeric, start=1):
        values = [(w.chosen_params or {}).get(name) for w in result.windows]
        figure.add_trace(
            go.Scatter(x=numbers, y=values, mode="lines+markers", name=escape(name)),
            row=row,
            col=1,
        )
    figure.update_layout(showlegend=False)
    figure.update_xaxes(title_text="Window", dtick=1, row=len(numeric), col=1)
    height = _rows_height(len(numeric), 160, maximum=1600)
    return '<p class="sub">Chosen value of each numeric parameter by window.</p>\n' + charts.div(
        figure, height
    )


def _stability_table(result: WalkForwardResult) -> str:
    if not result.stability:
        return "<p>The grid varies no parameter.</p>"
    rows = [
        "<tr><th>Parameter</th><th>Distinct values</th><th>Mean step change (grid steps)</th>"
        "<th>Normalised change</th></tr>"
    ]
    for s in result.stability:
        rows.append(
            f'<tr><th>{escape(s.name)}</th><td class="num">{s.distinct}</td>'
            f'<td class="num">{format_ratio(s.mean_step_change)}</td>'
            f'<td class="num">{format_ratio(s.normalised_change)}</td></tr>'
        )
    return f"<table>{''.join(rows)}</table>"


def _surface_section(result: WalkForwardResult, charts: Charts) -> str:
    surface = objective_surface(result)
    if surface is None:
        return ""
    text = [["" if v is None else f"{v:.2f}" for v in row] for row in surface.z]
    x_title, y_title = escape(surface.x_title), escape(surface.y_title)
    figure = go.Figure(
        go.Heatmap(
            z=surface.z,
            x=surface.x,
            y=surface.y,
            text=text,
            texttemplate="%{text}",
            colorscale="RdYlGn",
            hovertemplate=f"{y_title} %{{y}}, {x_title} %{{x}}: %{{z:.4f}}<extra></extra>",
            name="In-sample objective",
        )
    )
    cells = sorted(surface.chosen.items())
    finite = [v for row in surface.z for v in row if v is not None]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    ink = [_ink(surface.z[row][column], low, high) for (row, column), _ in cells]
    figure.add_trace(
        go.Scatter(
            x=[surface.x[column] for (_, column), _ in cells],
            y=[surface.y[row] for (row, _), _ in cells],
            mode="markers" if surface.by_window else "markers+text",
            text=None if surface.by_window else [f"{n}×" for _, n in cells],
            textposition="top center",
            textfont={"color": ink},
            marker={
                "symbol": "circle-open",
                "size": 30 if surface.by_window else 40,
                "color": ink,
                "line": {"width": 2},
            },
            name="Chosen",
            hovertemplate="chosen: %{y}, %{x}<extra></extra>",
        )
    )
    figure.update_xaxes(type="category", title_text=x_title)
    figure.update_yaxes(
        type="category", title_text=y_title, autorange="reversed" if surface.by_window else True
    )
    figure.update_layout(showlegend=False)
    height = _rows_height(
        len(surface.y), 26 if surface.by_window else 44, minimum=320, maximum=1600
    )
    return (
        "<h3>In-sample objective over the grid</h3>\n"
        f'<p class="sub">{escape(surface.caption)}</p>\n{charts.div(figure, height)}'
    )


def _ink(value: float | None, low: float, high: float) -> str:
    """White on the dark ends of the red-yellow-green scale, near-black in its light middle."""
    if value is None or high == low:
        return _DARK_INK
    share = (value - low) / (high - low)
    return _LIGHT_INK if share < 0.25 or share > 0.75 else _DARK_INK


def _dsr_section(result: WalkForwardResult) -> str:
    head = "<h3>Deflated Sharpe of the stitched out-of-sample run</h3>"
    dsr = result.oos_dsr
    if dsr is None:
        return f"{head}\n<p>Not computed: {NOT_COMPUTED}.</p>"
    rows = [
        ("Deflated Sharpe (DSR)", format_pct(dsr.dsr)),
        ("Sharpe (per period)", f"{dsr.sharpe:.4f}"),
        (
            "Benchmark Sharpe: expected best of the trials by luck (per period)",
            f"{dsr.benchmark_sharpe:.4f}",
        ),
        ("Trials", f"{dsr.n_trials:,}"),
        ("Returns", f"{dsr.n_obs:,}"),
    ]
    return f'{head}\n{key_value_table(rows)}\n<p class="note">{escape(READ_DSR)}</p>'


def _pbo_section(result: WalkForwardResult, charts: Charts) -> str:
    head = "<h3>Probability of backtest overfitting (PBO)</h3>"
    pbo = result.pbo
    if pbo is None:
        return f"{head}\n<p>Not computed: {NOT_COMPUTED}.</p>"
    rows = [
        ("PBO", format_pct(pbo.pbo)),
        ("CSCV combinations", f"{pbo.n_combinations:,}"),
        ("Blocks", f"{pbo.n_splits:,}"),
        ("Trials", f"{pbo.n_trials:,}"),
        ("P(out-of-sample loss)", format_pct(pbo.prob_oos_loss)),
        ("Performance degradation slope", f"{pbo.performance_degradation.slope:.3f}"),
    ]
    figure = go.Figure(go.Histogram(x=list(pbo.logits), marker_color="#7b8794", name="Logits"))
    figure.add_vline(x=0, line={"dash": "dash", "color": "#c81e1e", "width": 1})
    figure.update_layout(
        xaxis_title="Logit λ of the in-sample winner's out-of-sample rank",
        yaxis_title="Combinations",
    )
    return (
        f'{head}\n{key_value_table(rows)}\n<p class="note">{escape(READ_PBO)}</p>\n'
        '<p class="sub">λ ≤ 0 (left of the dashed line) counts towards PBO.</p>\n'
        f"{charts.div(figure, 320)}"
    )


def _degradation_section(result: WalkForwardResult, charts: Charts) -> str:
    head = "<h3>In-sample vs out-of-sample degradation</h3>"
    efficiency = f"<p>Walk-forward efficiency (mean OOS / mean IS): <b>{format_ratio(result.efficiency)}</b></p>"
    note = f'<p class="note">{escape(READ_DEGRADATION)}</p>'
    values = result.degradation
    if not values:
        return f"{head}\n<p>No window has both an in-sample and an out-of-sample score.</p>\n{note}"
    figure = go.Figure(
        go.Bar(
            # result.degradation holds one value per window that chose a combination
            x=[f"W{w.window.number}" for w in result.windows if w.status == "ok"],
            y=values,
            marker_color=["#15803d" if v >= 0 else "#b91c1c" for v in values],
            hovertemplate="%{x}: %{y:.4f}<extra></extra>",
        )
    )
    figure.update_xaxes(type="category", title_text="Window")
    figure.update_yaxes(title_text="OOS − IS objective")
    return f"{head}\n{efficiency}\n{charts.div(figure, 320)}\n{note}"


def _score(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.3f}" if math.isfinite(value) else "n/a"
