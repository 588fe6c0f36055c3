"""The lean event loop (issue 14, ADR 0044): integer step times, curves rebuilt from the fills'
marks, the collector kept out of the loop; each must give what the plain loop gave."""

from __future__ import annotations

import gc
import hashlib
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quant_backtest.metadata import data_fingerprint
from quant_domain import Bar, OrderSide
from quant_engine import BacktestConfig, BacktestEngine, build_timeline
from quant_engine.config import FillTiming
from quant_engine.timeline import StepTimes
from quant_strategy import build_strategy
from tests.factories import ScriptedStrategy, random_walk, strategy_config


def test_step_times_build_the_datetimes_the_index_would() -> None:
    index = pd.date_range("2024-03-08 14:30", periods=10_000, freq="min", tz="UTC")
    times = StepTimes(index)
    expected = list(index.to_pydatetime())
    assert len(times) == len(expected)
    assert [times[i] for i in (0, 1, 4_999, -1)] == [expected[i] for i in (0, 1, 4_999, -1)]
    assert times[123].tzinfo is expected[123].tzinfo
    assert times[100:4_196] == expected[100:4_196]
    assert times[9_990:20_000] == expected[9_990:]
    assert times[::2500] == expected[::2500]
    assert [times.posix(i) for i in (0, 777, -1)] == [expected[i].timestamp() for i in (0, 777, -1)]


def test_step_times_of_a_naive_index_stay_naive() -> None:
    index = pd.date_range("2024-01-01", periods=5, freq="h")
    times = StepTimes(index)
    assert times[3] == index[3].to_pydatetime()
    assert times[3].tzinfo is None
    assert times[1:3] == list(index[1:3].to_pydatetime())


def test_a_backtest_timeline_reads_prices_without_copying_the_frame() -> None:
    bars = random_walk(50)
    timeline = build_timeline({"TEST": bars})
    assert list(timeline.closes[0]) == bars["close"].tolist()
    assert timeline.times[7] == bars.index[7].to_pydatetime()


def _marked_at_each_close(run: Any, bars: pd.DataFrame, capital: Decimal) -> np.ndarray:
    """The account marked at every step's close from the fills alone: the cash after the fills
    up to that step plus the position at the close (nothing while flat)."""
    cash, quantity = capital, Decimal(0)
    fills = sorted(run.fills, key=lambda f: f.timestamp)
    k = 0
    equity = []
    for at, close in zip(bars.index, bars["close"], strict=True):
        while k < len(fills) and fills[k].timestamp <= at:
            fill = fills[k]
            cash += fill.cash_change
            quantity += fill.quantity if fill.side is OrderSide.BUY else -fill.quantity
            k += 1
        value = float(quantity) * close if quantity else 0.0
        equity.append(float(cash) + (0.0 + value))
    return np.array(equity)


@pytest.mark.parametrize("timing", [FillTiming.CLOSE, FillTiming.NEXT_OPEN])
@pytest.mark.parametrize("trade_from", [0, 40])
def test_a_one_symbol_run_marks_equity_at_every_close(timing: FillTiming, trade_from: int) -> None:
    bars = random_walk(300, seed=3)
    script = {step: ("long" if step % 50 < 25 else "flat") for step in range(300)}
    strategy = build_strategy(strategy_config(params={"script": script}))
    config = BacktestConfig(fill_timing=timing)
    run = BacktestEngine(config).run(
        strategy, build_timeline({"TEST": bars}), trade_from=trade_from
    )
    assert len(run.fills) > 10
    expected = _marked_at_each_close(run, bars, config.initial_capital)[trade_from:]
    assert run.equity.tolist() == expected.tolist()
    assert (run.cash + run.positions_value).tolist() == run.equity.tolist()
    assert (
        run.gross_exposure.tolist()
        == np.where(run.equity > 0, np.abs(run.positions_value) / run.equity, 0.0).tolist()
    )


class FailingStrategy(ScriptedStrategy):
    def on_market_data(self, bar: Bar) -> None:
        if bar.close > 0:
            raise RuntimeError("the strategy broke")


def test_the_collector_is_back_on_after_a_run_even_when_the_strategy_fails() -> None:
    strategy = build_strategy(
        strategy_config(**{"class": "tests.unit.engine.test_lean_loop:FailingStrategy"})
    )
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="the strategy broke"):
        BacktestEngine(BacktestConfig()).run(strategy, build_timeline({"TEST": random_walk(20)}))
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_data_fingerprint_is_the_hash_of_the_whole_frames() -> None:
    frames = {"B": random_walk(70_000, seed=1), "A": random_walk(3, seed=2)}
    digest = hashlib.sha256()
    for symbol in ("A", "B"):
        bars = frames[symbol]
        digest.update(symbol.encode())
        digest.update(pd.DatetimeIndex(bars.index).as_unit("us").asi8.tobytes())
        digest.update(bars.to_numpy(dtype=np.float64).tobytes())
    assert data_fingerprint(frames) == digest.hexdigest()
