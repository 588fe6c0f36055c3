"""The compiled run gives the event loop's EngineRun in every field, on the parity cases and more."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quant_domain import PositionSizing, SizingMode
from quant_engine import BacktestConfig, BacktestEngine, EngineRun, FillTiming, build_timeline
from quant_engine.compiled_run import compiled_run
from quant_engine.config import CommissionRounding, EngineChoice
from quant_engine.engine_choice import CompiledUnavailable, choose_path, compiled_blocker
from quant_marketdata import SampleSource, SyntheticSource
from quant_strategy import StrategyConfig, build_strategy, load_strategy_config

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"
REAL = SampleSource()
SYN = SyntheticSource(seed=3, n_symbols=4, n_bars=6_000)

# the data, setups and timings of test_vectorised_parity.py
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
    "short_bps": (
        {"commission_bps": Decimal("2.5"), "slippage_bps": Decimal(5)},
        {"allow_short": True, "max_position_pct": 0.5},
    ),
}


def assert_same_run(event: EngineRun, compiled: EngineRun) -> None:
    """Every field of the two runs equal: objects by value, curves bit for bit."""
    assert (event.engine, compiled.engine) == ("event", "compiled")
    assert event.index.equals(compiled.index)
    for curve in ("equity", "cash", "positions_value", "gross_exposure"):
        np.testing.assert_array_equal(getattr(compiled, curve), getattr(event, curve), curve)
    assert compiled.orders == event.orders
    assert [o.to_dict() for o in compiled.orders] == [o.to_dict() for o in event.orders]
    assert [o.order.reason for o in compiled.orders] == [o.order.reason for o in event.orders]
    assert compiled.fills == event.fills
    assert compiled.trades == event.trades
    assert compiled.final_cash == event.final_cash
    assert compiled.final_positions == event.final_positions
    assert compiled.final_equity == event.final_equity
    assert compiled.total_fees == event.total_fees
    assert compiled.traded_notional == event.traded_notional
    assert compiled.bars_processed == event.bars_processed


def both(
    config: StrategyConfig,
    frames: dict[str, pd.DataFrame],
    bt: BacktestConfig,
    trade_from: int = 0,
    calendar: str | None = None,
) -> tuple[EngineRun, EngineRun]:
    event = BacktestEngine(bt).run(
        build_strategy(config), build_timeline(frames, calendar), trade_from=trade_from
    )
    compiled = compiled_run(
        build_strategy(config), frames, build_timeline(frames, calendar), bt, trade_from=trade_from
    )
    return event, compiled


def _config(name: str, frames: dict[str, pd.DataFrame], risk: dict[str, Any]) -> StrategyConfig:
    config = load_strategy_config(CONFIGS / f"{name}.yaml").updated(
        universe=list(frames), benchmark=None
    )
    return config.updated(risk=config.risk.model_copy(update=risk))


@pytest.mark.parametrize("timing", list(FillTiming))
@pytest.mark.parametrize("setup", list(SETUPS))
@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize("name", ["momentum_v1", "buy_and_hold"])
def test_compiled_run_parity_cases_every_field_equal(
    name: str, data: str, setup: str, timing: FillTiming
) -> None:
    frames: dict[str, pd.DataFrame] = DATA[data]()
    bt_changes, risk_changes = SETUPS[setup]
    bt = BacktestConfig(fill_timing=timing, **bt_changes)
    event, compiled = both(_config(name, frames, risk_changes), frames, bt)
    assert len(event.fills) > 0
    assert_same_run(event, compiled)


def test_compiled_run_warmup_and_calendar_every_field_equal() -> None:
    frames = {"SP500": REAL.get_bars("SP500")}
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    event, compiled = both(config, frames, BacktestConfig(), trade_from=2_800, calendar="XNYS")
    assert_same_run(event, compiled)


def test_compiled_run_resized_and_cancelled_remainders_equal() -> None:
    # a fixed quantity far above the cash: every buy is cut to fit and its rest cancelled
    frames = {"SP500": REAL.get_bars("SP500")}
    bt = BacktestConfig(
        sizing=PositionSizing(mode=SizingMode.FIXED, quantity=Decimal(10_000)),
        fill_timing=FillTiming.NEXT_OPEN,
    )
    event, compiled = both(_config("momentum_v1", frames, {"max_position_pct": 50.0}), frames, bt)
    assert any("resized" in o.reason for o in event.orders)
    assert_same_run(event, compiled)


def test_quant_backtest_run_momentum_v1_ends_at_122651_59_on_both_paths() -> None:
    from quant_backtest import run  # noqa: PLC0415 - the whole runner, only for this test

    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    results = {
        engine: run(config, REAL, BacktestConfig(engine=engine))
        for engine in (EngineChoice.EVENT, EngineChoice.COMPILED, EngineChoice.AUTO)
    }
    for engine, result in results.items():
        assert round(float(result.equity["equity"].iloc[-1]), 2) == 122_651.59, engine
    event, compiled = results[EngineChoice.EVENT], results[EngineChoice.COMPILED]
    assert (event.metadata.engine, compiled.metadata.engine) == ("event", "compiled")
    assert results[EngineChoice.AUTO].metadata.engine == "compiled"
    assert event.metadata.config_hash == compiled.metadata.config_hash
    assert compiled.metrics == event.metrics
    pd.testing.assert_frame_equal(compiled.equity, event.equity, check_exact=True)
    assert (compiled.orders, compiled.fills, compiled.trades) == (
        event.orders,
        event.fills,
        event.trades,
    )


def test_run_auto_with_a_progress_callback_takes_the_compiled_run_and_hears_every_chunk() -> None:
    from quant_backtest import run  # noqa: PLC0415 - the whole runner, only for this test

    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    seen: list[tuple[int, int]] = []
    watched = run(config, REAL, BacktestConfig(), progress=lambda d, t: seen.append((d, t)))
    assert watched.metadata.engine == "compiled"
    n = len(watched.equity)
    # chunks of CHUNK_FLOOR steps (a hundredth of 5,031 is less), then the end, once
    assert seen == [(2_048, n), (4_096, n), (n, n)]
    event = run(config, REAL, BacktestConfig(engine=EngineChoice.EVENT))
    assert (watched.fills, watched.orders, watched.trades) == (
        event.fills,
        event.orders,
        event.trades,
    )
    assert watched.metrics == event.metrics


class Stop(Exception):
    """What a watcher raises to stop a run (the worker's RunCancelled)."""


def test_a_progress_callback_that_raises_stops_the_compiled_run_at_that_chunk() -> None:
    from quant_backtest import run  # noqa: PLC0415 - the whole runner, only for this test

    source = SyntheticSource(seed=5, n_symbols=1, n_bars=50_000, timeframe="1h")
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(
        universe=["SYN000"], benchmark=None, start=None, end=None, timeframe="1h"
    )
    seen: list[int] = []

    def cancel_at_the_third(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) == 3:
            raise Stop

    with pytest.raises(Stop):
        run(config, source, BacktestConfig(), progress=cancel_at_the_third)
    assert seen == [2_048, 4_096, 6_144]


def test_engine_choice_compiled_without_vector_form_says_why() -> None:
    strategy = build_strategy(load_strategy_config(CONFIGS / "mean_reversion_v1.yaml"))
    bt = BacktestConfig(engine=EngineChoice.COMPILED)
    assert compiled_blocker(strategy, bt) == "MeanReversion has no vector_targets"
    with pytest.raises(CompiledUnavailable, match="MeanReversion has no vector_targets"):
        choose_path(strategy, bt)
    assert choose_path(strategy, BacktestConfig()) == "event"
    momentum = build_strategy(load_strategy_config(CONFIGS / "momentum_v1.yaml"))
    assert choose_path(momentum, BacktestConfig()) == "compiled"
    assert choose_path(momentum, BacktestConfig(engine=EngineChoice.EVENT)) == "event"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    seed=st.integers(0, 10_000),
    n_symbols=st.integers(1, 3),
    fast=st.integers(2, 15),
    gap=st.integers(1, 30),
    entry=st.sampled_from([0.0, 0.002, 0.01]),
    timing=st.sampled_from(list(FillTiming)),
    mode=st.sampled_from(list(SizingMode)),
    fraction=st.floats(0.05, 1.0),
    quantity=st.integers(1, 2_000),
    fractional=st.booleans(),
    per_trade=st.sampled_from([Decimal(0), Decimal("1.00"), Decimal("4.95")]),
    bps=st.sampled_from([Decimal(0), Decimal("2.5"), Decimal(10)]),
    slippage=st.sampled_from([Decimal(0), Decimal(5), Decimal(25)]),
    rounding=st.sampled_from(list(CommissionRounding)),
    liquidate=st.booleans(),
    short=st.booleans(),
    max_pos=st.sampled_from([0.3, 0.5, 1.0, 2.0]),
    warmup=st.integers(0, 120),
    hold=st.booleans(),
    gaps=st.booleans(),
    calendar=st.sampled_from([None, "XNYS"]),
)
def test_compiled_run_equals_event_loop_for_random_strategies_configs_and_data(
    seed: int,
    n_symbols: int,
    fast: int,
    gap: int,
    entry: float,
    timing: FillTiming,
    mode: SizingMode,
    fraction: float,
    quantity: int,
    fractional: bool,
    per_trade: Decimal,
    bps: Decimal,
    slippage: Decimal,
    rounding: CommissionRounding,
    liquidate: bool,
    short: bool,
    max_pos: float,
    warmup: int,
    hold: bool,
    gaps: bool,
    calendar: str | None,
) -> None:
    source = SyntheticSource(seed=seed, n_symbols=n_symbols, n_bars=400)
    frames = {s: source.get_bars(s) for s in source.symbols()}
    if gaps:  # symbols missing bars here and there: orders wait for a bar, clocks are unions
        rng = np.random.default_rng(seed)
        frames = {s: f[rng.random(len(f)) > 0.1] for s, f in frames.items()}
    name = "buy_and_hold" if hold else "momentum_v1"
    config = _config(name, frames, {"allow_short": short, "max_position_pct": max_pos})
    if not hold:
        config = config.updated(
            params={"fast": fast, "slow": fast + gap},
            signals=config.signals.model_copy(update={"entry": entry, "exit": entry}),
        )
    bt = BacktestConfig(
        fill_timing=timing,
        sizing=PositionSizing(
            mode=mode, fraction=fraction, quantity=Decimal(quantity), fractional=fractional
        ),
        commission_per_trade=per_trade,
        commission_bps=bps,
        slippage_bps=slippage,
        commission_rounding=rounding,
        liquidate_at_end=liquidate,
    )
    assert compiled_blocker(build_strategy(config), bt) is None
    event, compiled = both(config, frames, bt, trade_from=warmup, calendar=calendar)
    assert_same_run(event, compiled)
