"""Strategy.indicator_series: what the charts draw is what the strategy decides on."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from quant_features import BollingerBands, SimpleMovingAverage
from quant_marketdata import SampleSource
from quant_strategy import build_strategy, load_strategy_config

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"


def _bars(symbol: str) -> pd.DataFrame:
    return SampleSource().get_bars(symbol).iloc[:600]


def _same(drawn: pd.Series, streamed: list[float | None]) -> None:
    assert len(drawn) == len(streamed)
    for value, expected in zip(drawn.tolist(), streamed, strict=True):
        if expected is None:
            assert math.isnan(value)
        else:
            assert math.isclose(value, expected, rel_tol=1e-9)


def test_momentum_draws_the_fast_and_slow_smas_its_bars_feed_it() -> None:
    strategy = build_strategy(
        load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(params={"fast": 7, "slow": 30})
    )
    frame = _bars("SP500")
    lines = strategy.indicator_series("SP500", frame)
    assert list(lines) == ["SMA 7", "SMA 30"]
    for name, period in (("SMA 7", 7), ("SMA 30", 30)):
        average = SimpleMovingAverage(period)
        _same(lines[name], [average.update(float(c)) for c in frame["close"]])
        assert lines[name].index.equals(frame.index)


def test_mean_reversion_draws_the_bollinger_bands_it_trades_on() -> None:
    strategy = build_strategy(load_strategy_config(CONFIGS / "mean_reversion_v1.yaml"))
    frame = _bars("NASDAQ")
    lines = strategy.indicator_series("NASDAQ", frame)
    period, width = strategy.params.bb_period, strategy.params.bb_width
    label = f"{period}, {width:g}"
    assert list(lines) == [f"Bollinger {b} ({label})" for b in ("upper", "middle", "lower")]
    bands = BollingerBands(period, width)
    upper, middle, lower = [], [], []
    for close in frame["close"]:
        ready = bands.update(float(close))
        upper.append(bands.upper if ready else None)
        middle.append(bands.middle if ready else None)
        lower.append(bands.lower if ready else None)
    _same(lines[f"Bollinger upper ({label})"], upper)
    _same(lines[f"Bollinger middle ({label})"], middle)
    _same(lines[f"Bollinger lower ({label})"], lower)


def test_a_strategy_without_indicators_draws_none() -> None:
    strategy = build_strategy(load_strategy_config(CONFIGS / "buy_and_hold.yaml"))
    assert strategy.indicator_series("SP500", _bars("SP500")) == {}
