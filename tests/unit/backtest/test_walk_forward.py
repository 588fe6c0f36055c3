"""Walk-forward: exact windows, no peeking, stitched equity = plain backtests, honest reporting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quant_backtest import run
from quant_backtest.walk_forward import WalkForwardEngine, config_from_yaml_block
from quant_backtest.walk_forward_model import WalkForwardConfig, WindowType, make_windows
from quant_domain import ConfigError
from quant_engine import BacktestConfig
from quant_marketdata import SampleSource
from quant_strategy import StrategyConfig, load_strategy_config, parse_strategy_config
from tests.recording_strategies import RecordingMomentum

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"
SAMPLES = SampleSource()


def _momentum(**changes: object) -> StrategyConfig:
    return load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(**changes)


def test_make_windows_rolling_slides_in_and_out_of_sample_spans() -> None:
    config = WalkForwardConfig(in_sample_days=10, out_of_sample_days=5, step_days=5)
    windows = make_windows(date(2024, 1, 1), date(2024, 1, 28), config)
    spans = [
        (
            w.in_sample_start.day,
            w.in_sample_end.day,
            w.out_of_sample_start.day,
            w.out_of_sample_end.day,
        )
        for w in windows
    ]
    assert spans == [(1, 10, 11, 15), (6, 15, 16, 20), (11, 20, 21, 25), (16, 25, 26, 28)]


def test_make_windows_anchored_keeps_first_day_and_grows() -> None:
    config = WalkForwardConfig(
        in_sample_days=10, out_of_sample_days=5, window_type=WindowType.ANCHORED
    )
    windows = make_windows(date(2024, 1, 1), date(2024, 1, 25), config)
    assert [
        (w.in_sample_start.day, w.in_sample_end.day, w.out_of_sample_end.day) for w in windows
    ] == [
        (1, 10, 15),
        (1, 15, 20),
        (1, 20, 25),
    ]


def test_make_windows_count_splits_the_rest_evenly_and_max_windows_keeps_latest() -> None:
    config = WalkForwardConfig(in_sample_days=10, windows=3)
    windows = make_windows(date(2024, 1, 1), date(2024, 1, 31), config)
    assert [(w.out_of_sample_start.day, w.out_of_sample_end.day) for w in windows] == [
        (11, 17),
        (18, 24),
        (25, 31),
    ]
    latest = make_windows(
        date(2024, 1, 1), date(2024, 1, 31), config.model_copy(update={"max_windows": 2})
    )
    assert [(w.number, w.out_of_sample_start.day) for w in latest] == [(1, 18), (2, 25)]


def test_stitched_out_of_sample_equity_equals_plain_backtests_window_by_window() -> None:
    config = _momentum()
    wf = WalkForwardConfig(
        in_sample_days=730,
        out_of_sample_days=365,
        parameter_grid={"fast": [10, 20], "slow": [50, 100]},
    )
    bt = BacktestConfig(start=date(2005, 1, 1), end=date(2012, 12, 31))
    result = WalkForwardEngine(SAMPLES, bt, workers=1).run(config, wf)
    assert len(result.windows) == 6
    stitched = result.equity["equity"]
    for item in result.windows:
        assert item.status == "ok"
        assert item.chosen_params is not None
        window = item.window
        plain = run(
            config.updated(params={**config.params, **item.chosen_params}),
            SAMPLES,
            bt.model_copy(
                update={
                    "start": window.out_of_sample_start,
                    "end": window.out_of_sample_end,
                    "warmup_bars": result.warmup_bars,
                    "liquidate_at_end": True,
                    "initial_capital": Decimal(f"{item.out_of_sample_start_equity:.2f}"),
                }
            ),
        )
        segment = stitched.loc[plain.equity.index]
        np.testing.assert_allclose(
            segment.to_numpy(), plain.equity["equity"].to_numpy(), rtol=1e-12
        )
        assert item.out_of_sample_end_equity == pytest.approx(plain.equity["equity"].iloc[-1])
    # windows chain: each starts with what the previous ended with, to the cent
    for before, after in zip(result.windows, result.windows[1:], strict=False):
        assert after.out_of_sample_start_equity == pytest.approx(
            round(before.out_of_sample_end_equity, 2)
        )
    assert result.oos_metrics.end_equity == pytest.approx(stitched.iloc[-1])
    assert result.fast_path


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("window_type", list(WindowType))
def test_in_sample_choice_never_sees_out_of_sample_bars(
    fast: bool, window_type: WindowType
) -> None:
    name = "RecordingFastMomentum" if fast else "RecordingMomentum"
    config = StrategyConfig.model_validate(
        {
            "id": "rec",
            "class": f"tests.recording_strategies:{name}",
            "universe": ["SP500"],
            "params": {},
        }
    )
    wf = WalkForwardConfig(
        in_sample_days=365,
        out_of_sample_days=180,
        window_type=window_type,
        parameter_grid={"lookback": [3, 8]},
    )
    bt = BacktestConfig(start=date(2008, 1, 1), end=date(2010, 12, 31))
    RecordingMomentum.last_seen.clear()
    result = WalkForwardEngine(SAMPLES, bt, workers=1).run(config, wf)
    # strategies built only to validate the grid never see a bar; keep the runs that did
    seen = [t for t in RecordingMomentum.last_seen if t.year > 1900]
    windows = [w.window for w in result.windows]
    bars = SAMPLES.get_bars("SP500").index
    last_bar = {
        d: bars[bars <= pd.Timestamp(d, tz="UTC") + pd.Timedelta(hours=23)][-1]
        for d in [w.in_sample_end for w in windows] + [w.out_of_sample_end for w in windows]
    }
    assert len(seen) == 2 * (len(windows) + 1) + 2 * len(windows)
    grid_phase, oos_phase = seen[: 2 * (len(windows) + 1)], seen[2 * (len(windows) + 1) :]
    for combo in range(2):
        runs = grid_phase[combo * (len(windows) + 1) : (combo + 1) * (len(windows) + 1)]
        assert runs[:-1] == [last_bar[w.in_sample_end] for w in windows]
        assert all(
            seen_at < pd.Timestamp(w.out_of_sample_start, tz="UTC")
            for seen_at, w in zip(runs, windows, strict=False)
        )
        assert runs[-1] == bars[bars <= pd.Timestamp("2010-12-31 23:00", tz="UTC")][-1]
    # out-of-sample phase: the chosen combination's in-sample rerun, then its out-of-sample backtest
    assert oos_phase[0::2] == [last_bar[w.in_sample_end] for w in windows]
    assert oos_phase[1::2] == [last_bar[w.out_of_sample_end] for w in windows]
    if window_type is WindowType.ANCHORED:
        assert len({w.in_sample_start for w in windows}) == 1


def test_windows_short_of_min_trades_are_reported_and_spent_in_cash() -> None:
    wf = WalkForwardConfig(
        in_sample_days=365,
        out_of_sample_days=365,
        parameter_grid={"fast": [20]},
        min_trades_required=5,
    )
    bt = BacktestConfig(start=date(2003, 1, 1), end=date(2008, 12, 31))
    result = WalkForwardEngine(SAMPLES, bt, workers=1).run(_momentum(), wf)
    skipped = [w for w in result.windows if w.status == "skipped"]
    assert skipped, "a 20/50 crossover makes fewer than 5 round trips in some years"
    for item in skipped:
        assert "no combination made 5 in-sample trades" in item.note
        assert item.chosen_params is None
        span = result.equity["equity"].loc[
            str(item.window.out_of_sample_start) : str(item.window.out_of_sample_end)
        ]
        assert span.nunique() == 1
    assert len(result.windows) == 5


def test_parallel_workers_choose_exactly_what_one_process_chooses() -> None:
    wf = WalkForwardConfig(
        in_sample_days=730,
        out_of_sample_days=365,
        parameter_grid={"fast": [5, 10, 20], "slow": [40, 80]},
    )
    bt = BacktestConfig(start=date(2004, 1, 1), end=date(2010, 12, 31))
    one = WalkForwardEngine(SAMPLES, bt, workers=1).run(_momentum(), wf)
    two = WalkForwardEngine(SAMPLES, bt, workers=2).run(_momentum(), wf)
    assert [w.scores for w in one.windows] == [w.scores for w in two.windows]
    assert [w.chosen_params for w in one.windows] == [w.chosen_params for w in two.windows]
    np.testing.assert_array_equal(one.equity["equity"].to_numpy(), two.equity["equity"].to_numpy())


def test_overfitting_statistics_are_reported() -> None:
    wf = WalkForwardConfig(
        in_sample_days=1095,
        out_of_sample_days=365,
        parameter_grid={"fast": [5, 10, 20, 30], "slow": [40, 100]},
    )
    result = WalkForwardEngine(SAMPLES, BacktestConfig(), workers=1).run(_momentum(), wf)
    assert result.pbo is not None
    assert 0.0 <= result.pbo.pbo <= 1.0
    assert result.pbo.n_trials == 8
    assert result.oos_dsr is not None
    assert result.oos_dsr.n_trials == 8
    assert len(result.degradation) == len([w for w in result.windows if w.status == "ok"])
    assert [s.name for s in result.stability] == ["fast", "slow"]
    assert all(w.in_sample_dsr is not None for w in result.windows)


def test_yaml_walk_forward_block_validates_with_line_numbers() -> None:
    text = (CONFIGS / "momentum_v1.yaml").read_text()
    assert config_from_yaml_block(parse_strategy_config(text, "m.yaml")) is not None
    bad = text.replace("objective: sharpe", "objective: luck")
    with pytest.raises(ConfigError) as info:
        config_from_yaml_block(parse_strategy_config(bad, "m.yaml"))
    assert info.value.field == "walk_forward.objective"
    assert info.value.line is not None
    assert "luck" not in str(info.value) or "sharpe" in str(info.value)


def test_bad_grid_value_is_refused_before_any_work() -> None:
    wf = WalkForwardConfig(parameter_grid={"fast": [10, 80]})
    with pytest.raises(ConfigError, match="must be smaller than slow"):
        WalkForwardEngine(SAMPLES, BacktestConfig(), workers=1).run(_momentum(), wf)


def test_stitched_trades_and_fills_have_unique_ids_that_still_link() -> None:
    wf = WalkForwardConfig(
        in_sample_days=730, out_of_sample_days=365, parameter_grid={"fast": [10, 20]}
    )
    result = WalkForwardEngine(SAMPLES, BacktestConfig(start=date(2004, 1, 1)), workers=1).run(
        _momentum(), wf
    )
    fill_ids = [f.fill_id for f in result.fills]
    assert len(fill_ids) == len(set(fill_ids))
    assert len({t.trade_id for t in result.trades}) == len(result.trades)
    assert all(f in set(fill_ids) for t in result.trades for f in t.fill_ids)
    assert fill_ids[0].startswith("w1-")


def test_stitched_curve_carries_each_windows_cash_positions_and_exposure() -> None:
    wf = WalkForwardConfig(
        in_sample_days=365,
        out_of_sample_days=365,
        parameter_grid={"fast": [20]},
        min_trades_required=5,
    )
    bt = BacktestConfig(start=date(2003, 1, 1), end=date(2008, 12, 31))
    config = _momentum()
    result = WalkForwardEngine(SAMPLES, bt, workers=1).run(config, wf)
    curve = result.equity
    assert list(curve.columns) == ["equity", "cash", "positions_value", "gross_exposure"]
    assert {w.status for w in result.windows} == {"ok", "skipped"}
    for item in result.windows:
        window = item.window
        part = curve.loc[str(window.out_of_sample_start) : str(window.out_of_sample_end)]
        if item.status == "skipped":  # all cash: nothing held, nothing exposed
            assert (part["cash"] == part["equity"]).all()
            assert (part["positions_value"] == 0.0).all()
            assert (part["gross_exposure"] == 0.0).all()
            continue
        assert item.chosen_params is not None
        plain = run(
            config.updated(params={**config.params, **item.chosen_params}),
            SAMPLES,
            bt.model_copy(
                update={
                    "start": window.out_of_sample_start,
                    "end": window.out_of_sample_end,
                    "warmup_bars": result.warmup_bars,
                    "liquidate_at_end": True,
                    "initial_capital": Decimal(f"{item.out_of_sample_start_equity:.2f}"),
                }
            ),
        )
        pd.testing.assert_frame_equal(part, plain.equity, check_freq=False)
    exposed = float(np.count_nonzero(curve["gross_exposure"])) / (len(curve) + 1)
    assert 0.0 < result.oos_metrics.exposure == pytest.approx(exposed)
