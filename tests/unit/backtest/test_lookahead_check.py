"""check_lookahead: catches a strategy that peeks, passes the built-ins, and repeats itself."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quant_backtest.lookahead import (
    JUMP,
    check_lookahead,
    choose_points,
    perturb_after,
)
from quant_backtest.lookahead_suspicion import SHARPE_LIMIT_DAILY, frequency_limit, judge_result
from quant_domain import ConfigError, Timeframe
from quant_engine import BacktestConfig, FillTiming
from quant_marketdata import DataSource, SampleSource
from quant_strategy import StrategyConfig, load_strategy_config
from tests.biased_strategies import PeekingCrossover, install_frames
from tests.factories import random_walk, strategy_config

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = ROOT / "configs" / "strategies"
PEEKING = ROOT / "tests" / "configs" / "peeking.yaml"


class _FrameSource(DataSource):
    """Fixed frames as a data source (ranges and timeframes ignored)."""

    name = "frames"

    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self._frames = frames

    def symbols(self) -> list[str]:
        return list(self._frames)

    def get_bars(
        self,
        symbol: str,
        start: datetime | None = None,
        end: datetime | None = None,
        timeframe: Timeframe | None = None,
    ) -> pd.DataFrame:
        return self._frames[symbol]


@pytest.fixture(scope="module")
def samples() -> SampleSource:
    return SampleSource()


def test_peeking_crossover_is_flagged_at_every_checked_point(samples: SampleSource) -> None:
    config = load_strategy_config(PEEKING)
    report = check_lookahead(
        config, samples, BacktestConfig(), checks=6, seed=0, prepare=install_frames
    )
    assert not report.clean
    assert len(report.checked_points) == 6
    assert [f.decision_point for f in report.biased] == report.checked_points
    assert report.points_with_orders == 5
    for finding in report.biased:
        day = finding.decision_point.date().isoformat()
        assert finding.detail.startswith(f"{day}: reference ")
        assert finding.detail.endswith(
            f"the strategy's decision at {day} depends on data after {day}"
        )
        changed = [d for d in (finding.reference, finding.perturbed) if d is not None]
        assert changed
        assert all(d.submitted_at == finding.decision_point for d in changed)
        assert finding.reference != finding.perturbed


def test_prepare_hook_is_left_holding_the_unperturbed_bars(samples: SampleSource) -> None:
    config = load_strategy_config(PEEKING)
    check_lookahead(config, samples, BacktestConfig(), checks=2, prepare=install_frames)
    real = samples.get_bars("SP500").loc["2010-01-01":"2011-12-31"]
    installed = PeekingCrossover.source_frames["SP500"]
    np.testing.assert_array_equal(installed.to_numpy(), real.to_numpy())


@pytest.mark.parametrize("timing", list(FillTiming))
@pytest.mark.parametrize(
    ("name", "later_changed"),
    [("momentum_v1", 5), ("mean_reversion_v1", 5), ("xsec_momentum_v1", 5), ("buy_and_hold", 0)],
)
def test_builtin_strategies_are_clean_on_the_real_samples(
    samples: SampleSource, name: str, later_changed: int, timing: FillTiming
) -> None:
    config = load_strategy_config(CONFIGS / f"{name}.yaml")
    report = check_lookahead(config, samples, BacktestConfig(fill_timing=timing), checks=5)
    assert report.clean
    assert report.biased == []
    assert len(report.checked_points) == 5
    # the perturbation reaches every strategy that trades after the start: its later orders move
    assert report.later_changed == later_changed
    assert report.reference_orders >= 1


def test_same_seed_checks_the_same_points_and_another_seed_other_points(
    samples: SampleSource,
) -> None:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    bt = BacktestConfig(start=date(2005, 1, 1), end=date(2010, 12, 31))
    first = check_lookahead(config, samples, bt, checks=8, seed=7)
    again = check_lookahead(config, samples, bt, checks=8, seed=7)
    other = check_lookahead(config, samples, bt, checks=8, seed=8)
    assert first == again
    assert len(first.checked_points) == 8
    assert first.checked_points != other.checked_points


def test_checked_points_include_order_steps_and_quiet_steps_spread_over_the_run(
    samples: SampleSource,
) -> None:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    report = check_lookahead(config, samples, BacktestConfig(), checks=20, seed=0)
    assert len(report.checked_points) == 20
    assert report.points_with_orders == 15
    assert report.checked_points == sorted(set(report.checked_points))
    assert report.checked_points[0] < datetime(2001, 1, 1, tzinfo=UTC)
    assert report.checked_points[-1] > datetime(2016, 1, 1, tzinfo=UTC)


def test_progress_reports_each_check_done() -> None:
    calls: list[tuple[int, int]] = []
    source = _FrameSource({"TEST": random_walk(300, seed=3)})
    config = strategy_config(params={"script": {10: "long", 60: "flat", 200: "long"}})
    report = check_lookahead(
        config, source, BacktestConfig(), checks=4, progress=lambda d, n: calls.append((d, n))
    )
    assert report.clean
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert report.points_with_orders == 3


def test_nondeterministic_strategy_is_refused_with_a_config_error(samples: SampleSource) -> None:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(
        class_path="tests.biased_strategies:UnseededCoinFlip", params={}
    )
    bt = BacktestConfig(start=date(2010, 1, 1), end=date(2010, 12, 31))
    with pytest.raises(ConfigError, match="needs a deterministic strategy"):
        check_lookahead(config, samples, bt, checks=2)


def test_zero_checks_is_a_value_error(samples: SampleSource) -> None:
    config = load_strategy_config(CONFIGS / "buy_and_hold.yaml")
    with pytest.raises(ValueError, match="checks must be at least 1, got 0"):
        check_lookahead(config, samples, BacktestConfig(), checks=0)


def test_choose_points_keeps_every_order_step_when_few_and_never_the_last_step() -> None:
    points = choose_points(100, [10, 50, 99], checks=20, seed=0)
    assert len(points) == 20
    assert {10, 50} <= set(points)
    assert 99 not in points
    assert points == sorted(set(points))
    assert all(0 <= p < 99 for p in points)


def test_choose_points_takes_three_in_four_from_order_steps_when_many() -> None:
    order_steps = list(range(0, 1000, 5))
    points = choose_points(1000, order_steps, checks=20, seed=1)
    assert len(points) == 20
    assert sum(1 for p in points if p % 5 == 0) == 15
    # one per consecutive chunk: spread over the whole run
    busy = [p for p in points if p % 5 == 0]
    assert busy[0] < 70
    assert busy[-1] > 930


def test_choose_points_on_a_short_run_checks_every_step_but_the_last() -> None:
    assert choose_points(5, [], checks=20, seed=0) == [0, 1, 2, 3]
    assert choose_points(1, [0], checks=20, seed=0) == []


def test_perturb_after_leaves_the_past_and_keeps_bars_consistent() -> None:
    frame = random_walk(400, seed=5)
    t = frame.index[199].to_pydatetime()
    for direction in (1.0, -1.0):
        out = perturb_after({"X": frame}, t, np.random.default_rng(0), direction)["X"]
        pd.testing.assert_frame_equal(out.iloc[:200], frame.iloc[:200], check_freq=False)
        later = out.iloc[200:]
        assert (later[["open", "high", "low", "close"]] > 0).all().all()
        assert (later["high"] >= later[["open", "close"]].max(axis=1)).all()
        assert (later["low"] <= later[["open", "close"]].min(axis=1)).all()
        ratio = later["close"].to_numpy() / frame["close"].to_numpy()[200:]
        assert np.log(ratio[0]) == pytest.approx(direction * JUMP, abs=0.15)
        assert not np.allclose(later["volume"], frame["volume"].iloc[200:])
    assert list(out.columns) == ["open", "high", "low", "close", "volume"]
    assert out.index.equals(frame.index)


def test_perturb_after_the_last_bar_changes_nothing() -> None:
    frame = random_walk(50, seed=2)
    out = perturb_after({"X": frame}, frame.index[-1].to_pydatetime(), np.random.default_rng(0))
    assert out["X"] is frame


def _oracle(samples: SampleSource, folder: Path) -> StrategyConfig:
    """The peeking config, reading tomorrow's close from a CSV file it loads by itself."""
    folder.mkdir(parents=True, exist_ok=True)
    samples.get_bars("SP500").to_csv(folder / "SP500.csv")
    return load_strategy_config(PEEKING).updated(
        class_path="tests.biased_strategies:FileOracle", params={"folder": str(folder)}
    )


def test_strategy_reading_tomorrow_from_its_own_file_is_flagged_suspicious_not_clean(
    samples: SampleSource, tmp_path: Path
) -> None:
    report = check_lookahead(_oracle(samples, tmp_path), samples, BacktestConfig(), checks=4)
    # perturbing the engine's bars cannot reach the file: no decision moves...
    assert report.biased == []
    assert not report.outside_data_checked
    # ...but the result is too good to be true, and the report says so with the figure
    result = report.result
    assert result.bars == "daily"
    assert result.sharpe_limit == SHARPE_LIMIT_DAILY == 4.0
    assert result.sharpe > 8.0
    assert result.suspicious
    assert result.reasons[0] == (
        f"Sharpe {result.sharpe:.2f} on daily bars is above {SHARPE_LIMIT_DAILY:.2f}"
    )
    assert any(reason.startswith("win rate 9") for reason in result.reasons)


def test_builtin_strategy_result_is_not_suspicious(samples: SampleSource) -> None:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    report = check_lookahead(config, samples, BacktestConfig(), checks=2)
    assert not report.result.suspicious
    assert report.result.reasons == ()
    assert report.result.sharpe == pytest.approx(0.15, abs=0.01)  # as `quant backtest` says
    assert report.result.closed_trades == 58


def test_prepare_hook_marks_outside_data_as_checked(samples: SampleSource) -> None:
    config = load_strategy_config(PEEKING)
    report = check_lookahead(config, samples, BacktestConfig(), checks=1, prepare=install_frames)
    assert report.outside_data_checked


@pytest.mark.parametrize(
    ("periods_per_year", "bars", "limit"),
    [
        (12.0, "daily", 4.0),
        (252.0, "daily", 4.0),
        (365.0, "daily", 4.0),
        (1_764.0, "hourly", 6.0),
        (8_760.0, "hourly", 6.0),
        (19_656.0, "intraday", 8.0),
    ],
)
def test_sharpe_limit_depends_on_the_bar_frequency(
    periods_per_year: float, bars: str, limit: float
) -> None:
    assert frequency_limit(periods_per_year) == (bars, limit)


def test_judge_result_needs_enough_bars_before_calling_a_sharpe_suspicious() -> None:
    rng = np.random.default_rng(0)
    steady = 100_000 * np.cumprod(1 + rng.normal(0.004, 0.005, 300))
    long_run = judge_result(np.concatenate(([100_000.0], steady)), 252.0, [])
    assert long_run.suspicious
    short_run = judge_result(np.concatenate(([100_000.0], steady[:40])), 252.0, [])
    assert short_run.sharpe > 4.0
    assert not short_run.suspicious
    assert short_run.note == "40 returns are too few to judge a Sharpe ratio (63 needed)"
    relaxed = judge_result(np.concatenate(([100_000.0], steady)), 252.0, [], sharpe_limit=50.0)
    assert not relaxed.suspicious
