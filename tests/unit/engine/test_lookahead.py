"""No look-ahead: changing any bar after t never changes the orders placed up to t."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quant_engine import BacktestConfig, BacktestEngine, FillTiming, build_timeline
from quant_marketdata import SampleSource
from quant_strategy import load_strategy_config
from quant_strategy.loader import build_strategy
from tests.factories import random_walk

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"


def _perturb_after(frame: pd.DataFrame, t: pd.Timestamp, seed: int) -> pd.DataFrame:
    out = frame.copy()
    later = out.index > t
    rng = np.random.default_rng(seed)
    factor = np.exp(rng.normal(0, 0.2, later.sum()))
    for column in ("open", "high", "low", "close"):
        out.loc[later, column] = out.loc[later, column].to_numpy() * factor
    return out


def _orders(
    config_name: str, frames: dict[str, pd.DataFrame], timing: FillTiming
) -> list[tuple[object, ...]]:
    config = load_strategy_config(CONFIGS / f"{config_name}.yaml")
    config = config.updated(universe=list(frames), benchmark=None)
    strategy = build_strategy(config)
    run = BacktestEngine(BacktestConfig(fill_timing=timing)).run(strategy, build_timeline(frames))
    return [
        (r.submitted_at, r.order.symbol, r.order.side, r.order.quantity, r.order.type)
        for r in run.orders
    ]


@pytest.mark.parametrize("timing", list(FillTiming))
@pytest.mark.parametrize(
    "name", ["momentum_v1", "mean_reversion_v1", "xsec_momentum_v1", "buy_and_hold"]
)
def test_orders_up_to_t_ignore_every_later_bar(name: str, timing: FillTiming) -> None:
    symbols = ["AAA", "BBB", "CCC"] if name == "xsec_momentum_v1" else ["AAA"]
    frames = {s: random_walk(900, seed=k + 11) for k, s in enumerate(symbols)}
    base = _orders(name, frames, timing)
    assert base, "the strategy should trade on this data for the test to mean anything"
    index = frames[symbols[0]].index
    for cut, seed in ((150, 1), (400, 2), (700, 3)):
        t = index[cut]
        changed = {s: _perturb_after(f, t, seed) for s, f in frames.items()}
        after = _orders(name, changed, timing)
        assert [o for o in after if o[0] <= t] == [o for o in base if o[0] <= t]
    if name != "buy_and_hold":
        assert after != base, "perturbing the future should change later orders"


@pytest.mark.parametrize(
    ("name", "symbols"),
    [
        ("momentum_v1", ["SP500"]),
        ("mean_reversion_v1", ["NASDAQ"]),
        ("xsec_momentum_v1", ["SP500", "NASDAQ", "GOOG"]),
    ],
)
def test_orders_up_to_t_ignore_later_bars_on_real_samples(name: str, symbols: list[str]) -> None:
    source = SampleSource()
    frames = {s: source.get_bars(s).loc["2004-08-19":"2013-03-01"] for s in symbols}
    base = _orders(name, frames, FillTiming.CLOSE)
    assert len(base) > 4
    index = frames[symbols[0]].index
    for cut in (300, 1200):
        t = index[cut]
        changed = {s: _perturb_after(f, t, cut) for s, f in frames.items()}
        after = _orders(name, changed, FillTiming.CLOSE)
        assert [o for o in after if o[0] <= t] == [o for o in base if o[0] <= t]
        assert after != base
