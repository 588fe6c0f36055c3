"""The walk-forward report: one self-contained page of windows, choices and overfitting stats."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.offline
import pytest

from quant_backtest.result import RunMetadata
from quant_backtest.walk_forward_model import (
    ParameterStability,
    WalkForwardConfig,
    WalkForwardResult,
    WindowResult,
    make_windows,
)
from quant_backtest.walk_forward_report import (
    NOT_COMPUTED,
    objective_surface,
    render_walk_forward_report,
    write_walk_forward_report,
)
from quant_engine.metrics import compute_metrics
from quant_engine.overfitting import (
    READ_DEGRADATION,
    READ_DSR,
    READ_PBO,
    deflated_sharpe_ratio,
    degradation,
    efficiency_ratio,
    probability_of_backtest_overfitting,
)

START_EQUITY = 100_000.0
FIRST, LAST = date(2023, 1, 1), date(2023, 6, 29)  # 60-day IS / 30-day OOS: four windows
GRID_2X3 = {"fast": [5, 10], "slow": [20, 40, 60]}
# In-sample scores per window, in grid order (fast, slow): (5,20) (5,40) (5,60) (10,20) ...
SCORES_2X3: list[list[float | None] | None] = [
    [0.5, 1.2, 0.8, None, 0.3, 0.9],  # W1 chooses fast=5, slow=40
    [0.4, 1.0, 0.2, 0.1, 0.6, 1.5],  # W2 chooses fast=10, slow=60
    None,  # W3 skipped
    [0.2, 1.1, 0.7, 0.0, 0.5, 0.4],  # W4 chooses fast=5, slow=40
]
OOS_SCORES = [0.8, -0.3, None, 0.6]
SKIP_NOTE = "no combination made 2 in-sample trades"


def metadata() -> RunMetadata:
    return RunMetadata(
        code_version="git:abc1234",
        config_hash="cfg-9f8e7d",
        data_fingerprint="sha256:feedbeef",
        seed=7,
        created_at=datetime(2024, 6, 1, 12, tzinfo=UTC),
        python_version="3.11.7",
        platform="linux",
        data_source="sample & <csv>",
    )


def window_results(
    config: WalkForwardConfig,
    grid: list[dict[str, Any]],
    scores: list[list[float | None] | None],
    oos_scores: list[float | None],
) -> list[WindowResult]:
    rng = np.random.default_rng(3)
    windows = make_windows(FIRST, LAST, config)
    assert len(windows) == len(scores)
    out: list[WindowResult] = []
    for window, row, oos in zip(windows, scores, oos_scores, strict=True):
        if row is None:
            out.append(
                WindowResult(
                    window=window,
                    scores=[None] * len(grid),
                    trade_counts=[1] * len(grid),
                    status="skipped",
                    note=SKIP_NOTE,
                )
            )
            continue
        chosen = int(np.argmax([-np.inf if score is None else score for score in row]))
        out.append(
            WindowResult(
                window=window,
                scores=row,
                trade_counts=[3 + c for c in range(len(row))],
                status="ok",
                chosen_index=chosen,
                chosen_params=grid[chosen],
                in_sample_score=row[chosen],
                out_of_sample_score=oos,
                in_sample_dsr=deflated_sharpe_ratio(
                    rng.normal(0.001, 0.01, 60), [s or 0.0 for s in row]
                ),
                plateau=0.85,
            )
        )
    return out


def make_result(
    grid: dict[str, list[Any]] | None = None,
    scores: list[list[float | None] | None] | None = None,
    oos_scores: list[float | None] | None = None,
    strategy_id: str = "sma_cross",
) -> WalkForwardResult:
    config = WalkForwardConfig(
        in_sample_days=60,
        out_of_sample_days=30,
        parameter_grid=GRID_2X3 if grid is None else grid,
        min_trades_required=2,
    )
    combos = config.combinations({"fast": 5, "slow": 20, "size": 1.0})
    windows = window_results(
        config, combos, SCORES_2X3 if scores is None else scores, oos_scores or OOS_SCORES
    )
    rng = np.random.default_rng(11)
    index = pd.date_range("2023-03-02", "2023-06-29", freq="D", tz="UTC")
    values = START_EQUITY * np.cumprod(1.0 + rng.normal(0.0005, 0.01, len(index)))
    ok = [w for w in windows if w.status == "ok"]
    is_scores = [w.in_sample_score or 0.0 for w in ok]
    oos = [w.out_of_sample_score or 0.0 for w in ok]
    names = list(config.parameter_grid)
    return WalkForwardResult(
        id="wf-001",
        strategy_id=strategy_id,
        strategy_config={"id": strategy_id, "params": {"fast": 5, "slow": 20, "size": 1.0}},
        backtest_config={
            "slippage_bps": "5",
            "commission_per_trade": "1.00",
            "commission_bps": "0",
        },
        walk_forward_config=config.model_dump(mode="json"),
        grid=combos,
        windows=windows,
        equity=pd.DataFrame({"equity": values}, index=index),
        benchmark=pd.Series(START_EQUITY * (1.0 + np.arange(len(index)) * 0.001), index=index),
        benchmark_symbol="SPY",
        trades=[],
        fills=[],
        oos_metrics=compute_metrics(values, periods_per_year=252.0),
        stability=[
            ParameterStability(
                name, [(w.chosen_params or {}).get(name) for w in windows], 2, 1.0, 0.5
            )
            for name in names
        ],
        degradation=degradation(is_scores, oos),
        efficiency=efficiency_ratio(is_scores, oos),
        oos_dsr=deflated_sharpe_ratio(rng.normal(0.001, 0.01, 120), [0.05, 0.1, 0.02, 0.08]),
        pbo=probability_of_backtest_overfitting(rng.normal(0.0, 0.01, (64, 6)), n_splits=8),
        metadata=metadata(),
        fast_path=True,
        workers=4,
        timings={"optimise": 1.234, "out_of_sample": 0.5},
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[WalkForwardResult, Path, str]:
    result = make_result(strategy_id="<b>x</b>")
    target = tmp_path_factory.mktemp("wf") / "nested" / "walk_forward.html"
    written = write_walk_forward_report(result, target)
    return result, written, written.read_text(encoding="utf-8")


def test_write_walk_forward_report_writes_file_at_given_path(
    report: tuple[WalkForwardResult, Path, str],
) -> None:
    _, path, page = report

    assert path.name == "walk_forward.html"
    assert path.is_file()
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")


def test_write_walk_forward_report_is_self_contained_with_plotly_inlined_once(
    report: tuple[WalkForwardResult, Path, str],
) -> None:
    _, _, page = report

    assert "<script src=" not in page
    assert page.count(plotly.offline.get_plotlyjs()[:300]) == 1
    # equity, timeline, parameters by window, objective heatmap, PBO logits, degradation
    assert page.count("Plotly.newPlot(") == 6


def test_write_walk_forward_report_shows_every_section_title(
    report: tuple[WalkForwardResult, Path, str],
) -> None:
    _, _, page = report

    for title in (
        "<h2>Out-of-sample metrics</h2>",
        "<h2>Out-of-sample equity</h2>",
        "<h2>Window timeline</h2>",
        "<h2>Chosen parameters per window</h2>",
        "<h2>Parameter stability</h2>",
        "<h3>In-sample objective over the grid</h3>",
        "<h2>Overfitting statistics</h2>",
        "<h3>Deflated Sharpe of the stitched out-of-sample run</h3>",
        "<h3>Probability of backtest overfitting (PBO)</h3>",
        "<h3>In-sample vs out-of-sample degradation</h3>",
        "<h2>Walk-forward assumptions</h2>",
        "<h2>Run metadata</h2>",
    ):
        assert title in page


def test_write_walk_forward_report_summary_counts_windows_and_settings(
    report: tuple[WalkForwardResult, Path, str],
) -> None:
    result, _, page = report

    assert (
        '<p class="sub">4 windows (3 ok, 1 skipped) · grid of 6 combinations · objective: sharpe'
        " · rolling windows · fast path: yes · workers: 4 · out-of-sample 2023-03-02 → 2023-06-29"
        "</p>"
    ) in page
    sharpe = f"{result.oos_metrics.sharpe:.2f}"
    assert f'<tr><th>Sharpe ratio</th><td class="num">{sharpe}</td></tr>' in page


def test_write_walk_forward_report_chosen_table_lists_each_windows_choice(
    report: tuple[WalkForwardResult, Path, str],
) -> None:
    result, _, page = report
    first = result.windows[0]
    assert first.in_sample_dsr is not None
    dsr = f"{first.in_sample_dsr.dsr * 100:.2f}%"

    assert (
        "<tr><th>Window</th><th>In-sample</th><th>Out-of-sample</th><th>fast</th><th>slow</th>"
        "<th>IS score</th><th>OOS score</th><th>IS trades</th><th>Plateau</th><th>IS DSR</th>"
        "<th>Status</th></tr>"
    ) in page
    assert (
        '<tr><td class="num">1</td><td>2023-01-01 → 2023-03-01</td><td>2023-03-02 → 2023-03-31'
        '</td><td class="num">5</td><td class="num">40</td><td class="num">1.200</td>'
        '<td class="num">0.800</td><td class="num">4</td><td class="num">0.85</td>'
        f'<td class="num">{dsr}</td><td>ok</td></tr>'
    ) in page
    # W2 picks the last combination (fast=10, slow=60), which made 3 + 5 in-sample trades.
    assert (
        '<td class="num">10</td><td class="num">60</td><td class="num">1.500</td>'
        '<td class="num">-0.300</td><td class="num">8</td>'
    ) in page


def test_write_walk_forward_report_marks_skipped_window_with_its_note(
    report: tuple[WalkForwardResult, Path, str],
) -> None:
    _, _, page = report

    assert (
        '<tr class="skipped"><td class="num">3</td><td>2023-03-02 → 2023-04-30</td>'
        '<td>2023-05-01 → 2023-05-30</td><td class="num">—</td><td class="num">—</td>'
        '<td class="num">—</td><td class="num">—</td><td class="num">—</td><td class="num">—</td>'
        f'<td class="num">—</td><td>skipped: {SKIP_NOTE}</td></tr>'
    ) in page
    assert '"name":"Out-of-sample (skipped)"' in page
    assert '"text":["skipped"]' in page


def test_write_walk_forward_report_escapes_user_strings(
    report: tuple[WalkForwardResult, Path, str],
) -> None:
    _, _, page = report

    assert "<b>x</b>" not in page
    assert "<title>Walk-forward &lt;b&gt;x&lt;/b&gt; — run wf-001</title>" in page
    assert "<h1>Walk-forward &lt;b&gt;x&lt;/b&gt; — run wf-001</h1>" in page
    assert "<tr><th>Data source</th><td><code>sample &amp; &lt;csv&gt;</code></td></tr>" in page


def test_write_walk_forward_report_equity_chart_marks_each_window_start(
    report: tuple[WalkForwardResult, Path, str],
) -> None:
    _, _, page = report

    assert "Buy &amp; hold SPY" in page  # plotly decodes the entity when drawing the legend
    assert page.count('"dash":"dot"') == 4
    for start in ("2023-03-02", "2023-04-01", "2023-05-01", "2023-05-31"):
        assert f'"x0":"{start}","x1":"{start}"' in page
    assert '"x0":"2023-05-01","x1":"2023-05-31"' in page  # grey band over the skipped window


def test_write_walk_forward_report_overfitting_section_shows_dsr_pbo_and_efficiency(
    report: tuple[WalkForwardResult, Path, str],
) -> None:
    result, _, page = report
    assert result.pbo is not None
    assert result.oos_dsr is not None

    assert result.pbo.n_combinations == 70  # C(8, 4)
    assert f'<tr><th>PBO</th><td class="num">{result.pbo.pbo * 100:.2f}%</td></tr>' in page
    assert '<tr><th>CSCV combinations</th><td class="num">70</td></tr>' in page
    assert (
        f'<tr><th>Deflated Sharpe (DSR)</th><td class="num">{result.oos_dsr.dsr * 100:.2f}%'
        "</td></tr>"
    ) in page
    assert '<tr><th>Trials</th><td class="num">4</td></tr>' in page
    assert result.efficiency == pytest.approx((0.8 - 0.3 + 0.6) / (1.2 + 1.5 + 1.1))
    assert (f"Walk-forward efficiency (mean OOS / mean IS): <b>{result.efficiency:.2f}</b>") in page
    assert '"x":["W1","W2","W4"]' in page  # one degradation bar per window with a choice
    for guide in (READ_DSR, READ_PBO, READ_DEGRADATION):
        assert f'<p class="note">{escape(guide)}</p>' in page


def test_write_walk_forward_report_lists_stability_metadata_and_assumptions(
    report: tuple[WalkForwardResult, Path, str],
) -> None:
    _, _, page = report

    assert (
        '<tr><th>fast</th><td class="num">2</td><td class="num">1.00</td>'
        '<td class="num">0.50</td></tr>'
    ) in page
    assert "<tr><th>Time: optimise</th><td><code>1.23 s</code></td></tr>" in page
    assert "<tr><th>Seed</th><td><code>7</code></td></tr>" in page
    assert "60 calendar days in-sample, 30 out-of-sample, advancing 30 days at a time" in page
    assert "at least 2 closed trades is chosen" in page
    assert "every position is liquidated at the window&#x27;s end" in page
    assert "slippage 5 bps, commission 1.00 per trade plus 0 bps" in page


def test_write_walk_forward_report_heatmap_overlays_chosen_cells_with_counts(
    report: tuple[WalkForwardResult, Path, str],
) -> None:
    _, _, page = report

    assert '"text":[["0.37","1.10","0.57"],["0.05","0.47","0.93"]]' in page  # mean per cell
    chosen = page[page.index('"name":"Chosen"') :]
    assert chosen.startswith('"name":"Chosen","text":["2\\u00d7","1\\u00d7"]')
    assert '"x":["40","60"],"y":["5","10"]' in chosen


def test_objective_surface_two_parameters_averages_windows_and_counts_choices() -> None:
    surface = objective_surface(make_result())

    assert surface is not None
    assert (surface.y_title, surface.x_title) == ("fast", "slow")
    assert surface.y == ["5", "10"]
    assert surface.x == ["20", "40", "60"]
    expected = [
        [(0.5 + 0.4 + 0.2) / 3, (1.2 + 1.0 + 1.1) / 3, (0.8 + 0.2 + 0.7) / 3],
        [(0.1 + 0.0) / 2, (0.3 + 0.6 + 0.5) / 3, (0.9 + 1.5 + 0.4) / 3],
    ]
    for got, want in zip(surface.z, expected, strict=True):
        assert got == pytest.approx(want)
    assert surface.chosen == {(0, 1): 2, (1, 2): 1}
    assert not surface.by_window
    assert "taking the best" not in surface.caption


def test_objective_surface_one_parameter_has_a_row_per_window() -> None:
    scores: list[list[float | None] | None] = [
        [0.1, 0.7, 0.3],
        [0.9, None, 0.2],
        None,
        [0.0, 0.1, 0.5],
    ]
    result = make_result(grid={"fast": [5, 10, 20]}, scores=scores)

    surface = objective_surface(result)

    assert surface is not None
    assert (surface.y_title, surface.x_title) == ("Window", "fast")
    assert surface.y == ["W1", "W2", "W3", "W4"]
    assert surface.x == ["5", "10", "20"]
    assert surface.z == [[0.1, 0.7, 0.3], [0.9, None, 0.2], [None, None, None], [0.0, 0.1, 0.5]]
    assert surface.chosen == {(0, 1): 1, (1, 0): 1, (3, 2): 1}
    assert surface.by_window


def test_objective_surface_three_parameters_takes_best_over_the_others() -> None:
    grid: dict[str, list[Any]] = {"fast": [5, 10], "slow": [20, 40, 60], "stop": [0.01, 0.02]}
    # score = fast index + slow index / 10 + stop index / 100 + window offset
    offsets = [0.0, 1.0, None, 2.0]
    scores: list[list[float | None] | None] = [
        None
        if offset is None
        else [
            f + s / 10 + t / 100 + offset
            for f, s, t in itertools.product(range(2), range(3), range(2))
        ]
        for offset in offsets
    ]
    result = make_result(grid=grid, scores=scores)

    surface = objective_surface(result)

    assert surface is not None
    assert (surface.y_title, surface.x_title) == ("fast", "slow")
    mean_offset = (0.0 + 1.0 + 2.0) / 3
    for row, column in itertools.product(range(2), range(3)):
        assert surface.z[row][column] == pytest.approx(row + column / 10 + 0.01 + mean_offset)
    assert surface.chosen == {(1, 2): 3}  # every window picks fast=10, slow=60, stop=0.02
    assert "taking the best over stop in each window" in surface.caption


def test_objective_surface_without_grid_parameters_is_none() -> None:
    scores: list[list[float | None] | None] = [[0.4], [0.5], None, [0.3]]
    result = make_result(grid={}, scores=scores)

    assert objective_surface(result) is None
    page = render_walk_forward_report(result)
    assert "<p>The grid varies no parameter.</p>" in page
    assert "In-sample objective over the grid" not in page


def test_render_walk_forward_report_one_parameter_grid_draws_heatmap_by_window() -> None:
    scores: list[list[float | None] | None] = [
        [0.1, 0.7, 0.3],
        [0.9, None, 0.2],
        None,
        [0.0, 0.1, 0.5],
    ]
    result = make_result(grid={"fast": [5, 10, 20]}, scores=scores)

    page = render_walk_forward_report(result)

    assert page.count("Plotly.newPlot(") == 6
    assert '"y":["W1","W2","W3","W4"]' in page
    assert "In-sample sharpe of every value of fast in each window" in page
    assert "<th>fast</th><th>IS score</th>" in page


def test_render_walk_forward_report_all_windows_skipped_without_benchmark_says_why() -> None:
    result = make_result(scores=[None] * 4, oos_scores=[None] * 4)
    flat = np.full(len(result.equity), START_EQUITY)
    result = dataclasses.replace(
        result,
        equity=pd.DataFrame({"equity": flat}, index=result.equity.index),
        benchmark=None,
        benchmark_symbol=None,
        oos_metrics=compute_metrics(flat, periods_per_year=252.0),
        oos_dsr=None,
        pbo=None,
        efficiency=0.0,
    )

    page = render_walk_forward_report(result)

    assert result.degradation == []
    assert "4 windows (0 ok, 4 skipped)" in page
    assert "Buy &amp; hold" not in page
    assert page.count(f"<p>Not computed: {NOT_COMPUTED}.</p>") == 2
    assert "<p>No window has both an in-sample and an out-of-sample score.</p>" in page
    assert page.count('<tr class="skipped">') == 4
    assert '<tr><th>Total return</th><td class="num">0.00%</td></tr>' in page
    # equity, timeline, parameters by window, objective heatmap (all cells empty)
    assert page.count("Plotly.newPlot(") == 4
