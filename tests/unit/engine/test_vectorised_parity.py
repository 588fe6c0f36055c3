"""The vectorised fast path gives the event loop's fills and equity (to 1e-9 relative)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quant_domain import PositionSizing, SizingMode
from quant_engine import BacktestConfig, BacktestEngine, FillTiming, build_timeline
from quant_engine.vectorised import PriceMatrix, simulate, unsupported_reason
from quant_marketdata import SampleSource, SyntheticSource
from quant_strategy import build_strategy, load_strategy_config

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"
REAL = SampleSource()
SYN = SyntheticSource(seed=3, n_symbols=4, n_bars=6_000)

DATA = {
    "sp500": lambda: {"SP500": REAL.get_bars("SP500")},
    "three_real": lambda: {s: REAL.get_bars(s) for s in ("SP500", "NASDAQ", "GOOG")},
    "synthetic_4": lambda: {s: SYN.get_bars(s) for s in SYN.symbols()},
}
SETUPS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "defaults": ({}, {}),
    "short_bps_liquidate": (
        {"commission_bps": Decimal("2.5"), "slippage_bps": Decimal(5), "liquidate_at_end": True},
        {"allow_short": True, "max_position_pct": 0.5},
    ),
    "fixed_whole": (
        {"sizing": PositionSizing(mode=SizingMode.FIXED, quantity=Decimal(40))},
        {"max_position_pct": 0.6},
    ),
    "fractional_half": ({"sizing": PositionSizing(fraction=0.5, fractional=True)}, {}),
}


def _fills(run: Any, symbols: list[str]) -> list[tuple[Any, ...]]:
    return [
        (
            run.index.get_loc(f.timestamp),
            f.symbol,
            float(f.signed_quantity),
            float(f.price),
            float(f.commission),
        )
        for f in run.fills
    ]


@pytest.mark.parametrize("timing", list(FillTiming))
@pytest.mark.parametrize("setup", list(SETUPS))
@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize("name", ["momentum_v1", "buy_and_hold"])
def test_fast_path_matches_event_loop_fill_for_fill(
    name: str, data: str, setup: str, timing: FillTiming
) -> None:
    frames: dict[str, pd.DataFrame] = DATA[data]()
    bt_changes, risk_changes = SETUPS[setup]
    bt = BacktestConfig(fill_timing=timing, **bt_changes)
    config = load_strategy_config(CONFIGS / f"{name}.yaml").updated(
        universe=list(frames), benchmark=None
    )
    config = config.updated(risk=config.risk.model_copy(update=risk_changes))

    event = BacktestEngine(bt).run(build_strategy(config), build_timeline(frames))
    fast = simulate(build_strategy(config), PriceMatrix.of(frames), bt)

    expected = _fills(event, list(frames))
    got = [(int(r[0]), fast.symbols[int(r[1])], r[2], r[3], r[4]) for r in fast.fills]
    assert len(got) == len(expected) > 0
    for (es, esym, eq, ep, ec), (gs, gsym, gq, gp, gc) in zip(expected, got, strict=True):
        assert (gs, gsym) == (es, esym)
        assert gq == pytest.approx(eq, rel=1e-12, abs=1e-9)
        assert gp == pytest.approx(ep, rel=1e-9)
        assert gc == pytest.approx(ec, abs=1e-9)
    np.testing.assert_allclose(fast.equity, event.equity, rtol=1e-9)
    closed = sorted(float(t.pnl) for t in event.trades if not t.is_open)
    np.testing.assert_allclose(sorted(fast.trade_pnls), closed, rtol=1e-9, atol=1e-6)


def test_fast_path_respects_warmup_like_the_event_loop() -> None:
    frames = {"SP500": REAL.get_bars("SP500")}
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    bt = BacktestConfig()
    start = 2_800
    event = BacktestEngine(bt).run(build_strategy(config), build_timeline(frames), trade_from=start)
    fast = simulate(build_strategy(config), PriceMatrix.of(frames), bt, trade_from=start)
    assert event.fills[0].timestamp == fast.index[int(fast.fills[0][0]) - start]
    np.testing.assert_allclose(fast.equity, event.equity, rtol=1e-9)


@pytest.mark.parametrize("name", ["mean_reversion_v1", "xsec_momentum_v1"])
def test_strategies_without_vector_form_say_why(name: str) -> None:
    strategy = build_strategy(load_strategy_config(CONFIGS / f"{name}.yaml"))
    assert (
        unsupported_reason(strategy, BacktestConfig())
        == f"{type(strategy).__name__} has no vector_targets"
    )
    with pytest.raises(ValueError, match="no vectorised path"):
        simulate(strategy, PriceMatrix.of({"SP500": REAL.get_bars("SP500")}), BacktestConfig())


def test_max_positions_keeps_a_strategy_on_the_event_loop() -> None:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    config = config.updated(risk=config.risk.model_copy(update={"max_positions": 1}))
    assert unsupported_reason(build_strategy(config), BacktestConfig()) == (
        "risk.max_positions is only enforced by the event loop"
    )


@pytest.mark.parametrize("timing", list(FillTiming))
@pytest.mark.parametrize("setup", ["defaults", "fixed_whole", "fractional_half", "short_bps"])
@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize("name", ["momentum_v1", "buy_and_hold"])
def test_fast_path_gives_the_event_loops_open_trades_marked_at_the_end(
    name: str, data: str, setup: str, timing: FillTiming
) -> None:
    frames: dict[str, pd.DataFrame] = DATA[data]()
    short_bps = (
        {"commission_bps": Decimal("2.5"), "slippage_bps": Decimal(5)},
        {"allow_short": True, "max_position_pct": 0.5},
    )
    bt_changes, risk_changes = short_bps if setup == "short_bps" else SETUPS[setup]
    bt = BacktestConfig(fill_timing=timing, **bt_changes)
    config = load_strategy_config(CONFIGS / f"{name}.yaml").updated(
        universe=list(frames), benchmark=None
    )
    config = config.updated(risk=config.risk.model_copy(update=risk_changes))

    event = BacktestEngine(bt).run(build_strategy(config), build_timeline(frames))
    fast = simulate(build_strategy(config), PriceMatrix.of(frames), bt)

    expected = sorted(
        (t.symbol, event.index.get_loc(t.entry_time), float(t.pnl))
        for t in event.trades
        if t.is_open
    )
    got = sorted(
        (fast.symbols[int(row[0])], int(row[1]), float(row[2])) for row in fast.open_trades
    )
    if name == "buy_and_hold" or setup == "short_bps":
        assert len(expected) == len(frames)  # always in the market: every symbol ends held
    assert [(s, i) for s, i, _ in got] == [(s, i) for s, i, _ in expected]
    for (_, _, gp), (_, _, ep) in zip(got, expected, strict=True):
        assert gp == pytest.approx(ep, rel=1e-9, abs=1e-6)
