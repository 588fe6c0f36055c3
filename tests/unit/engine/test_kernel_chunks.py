"""A compiled run advanced in chunks is the one-shot run to the bit, kernel and EngineRun alike."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quant_domain import PositionSizing
from quant_engine import BacktestConfig, EngineRun, FillTiming, build_timeline
from quant_engine.compiled_run import CHUNK_FLOOR, chunk_for, compiled_run
from quant_engine.config import CommissionRounding
from quant_engine.vectorised import KernelRun, PriceMatrix, VectorRun, simulate
from quant_marketdata import SyntheticSource
from quant_strategy import StrategyConfig, build_strategy, load_strategy_config

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"


def assert_identical(one_shot: EngineRun, chunked: EngineRun) -> None:
    """Every field equal: curves bit for bit, orders, fills and trades by value."""
    for field in fields(EngineRun):
        a, b = getattr(one_shot, field.name), getattr(chunked, field.name)
        if field.name == "index":
            assert a.equals(b)
        elif isinstance(a, np.ndarray) or field.name in {
            "equity",
            "cash",
            "positions_value",
            "gross_exposure",
        }:
            np.testing.assert_array_equal(np.asarray(b), np.asarray(a), field.name)
        else:
            assert b == a, field.name
    assert [o.to_dict() for o in chunked.orders] == [o.to_dict() for o in one_shot.orders]


def _setup(
    seed: int, n_symbols: int, fast: int, gap: int, short: bool, hold: bool
) -> tuple[StrategyConfig, dict[str, pd.DataFrame]]:
    source = SyntheticSource(seed=seed, n_symbols=n_symbols, n_bars=400)
    frames = {s: source.get_bars(s) for s in source.symbols()}
    rng = np.random.default_rng(seed)
    frames = {s: f[rng.random(len(f)) > 0.05] for s, f in frames.items()}  # clocks are unions
    name = "buy_and_hold" if hold else "momentum_v1"
    config = load_strategy_config(CONFIGS / f"{name}.yaml").updated(
        universe=list(frames), benchmark=None
    )
    config = config.updated(risk=config.risk.model_copy(update={"allow_short": short}))
    if not hold:
        config = config.updated(params={"fast": fast, "slow": fast + gap})
    return config, frames


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(
    seed=st.integers(0, 10_000),
    n_symbols=st.integers(1, 3),
    fast=st.integers(2, 12),
    gap=st.integers(1, 20),
    short=st.booleans(),
    hold=st.booleans(),
    timing=st.sampled_from(list(FillTiming)),
    fractional=st.booleans(),
    rounding=st.sampled_from(list(CommissionRounding)),
    liquidate=st.booleans(),
    warmup=st.integers(0, 60),
    chunk=st.integers(1, 450),
)
def test_compiled_run_in_any_chunks_equals_the_one_shot_run(
    seed: int,
    n_symbols: int,
    fast: int,
    gap: int,
    short: bool,
    hold: bool,
    timing: FillTiming,
    fractional: bool,
    rounding: CommissionRounding,
    liquidate: bool,
    warmup: int,
    chunk: int,
) -> None:
    config, frames = _setup(seed, n_symbols, fast, gap, short, hold)
    bt = BacktestConfig(
        fill_timing=timing,
        sizing=PositionSizing(fraction=0.9, fractional=fractional),
        commission_bps=Decimal("2.5"),
        commission_rounding=rounding,
        liquidate_at_end=liquidate,
    )
    runs = [
        compiled_run(
            build_strategy(config),
            frames,
            build_timeline(frames),
            bt,
            trade_from=warmup,
            chunk_steps=steps,
        )
        for steps in (None, chunk)
    ]
    assert_identical(*runs)
    # and the kernel itself, chunk by chunk, against its one-call form
    prices = PriceMatrix.of(frames)
    whole = simulate(build_strategy(config), prices, bt, warmup)
    kernel_run = KernelRun(build_strategy(config), prices, bt, warmup)
    signals = [kernel_run.advance_to(end) for end in range(chunk, len(prices.index) + chunk, chunk)]
    parts = kernel_run.result()
    for field in fields(VectorRun):
        a, b = getattr(whole, field.name), getattr(parts, field.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(b, a, field.name)
    np.testing.assert_array_equal(np.vstack(signals), whole.signals)


def test_kernel_result_before_the_last_step_is_refused() -> None:
    config, frames = _setup(1, 1, 5, 10, False, False)
    kernel_run = KernelRun(build_strategy(config), PriceMatrix.of(frames), BacktestConfig())
    kernel_run.advance_to(100)
    with pytest.raises(ValueError, match="simulated 100 of"):
        kernel_run.result()


def test_chunks_are_the_whole_run_unless_watched_then_a_hundredth_above_a_floor() -> None:
    def watcher(done: int, total: int) -> None:
        del done, total

    assert chunk_for(5_000, None) == 5_000
    assert chunk_for(5_000, watcher) == CHUNK_FLOOR
    assert chunk_for(1_000_000, watcher) == 10_000
    assert chunk_for(1_000_001, watcher) == 10_001


def test_compile_kernels_leaves_nothing_to_compile_for_a_chunked_compiled_run() -> None:
    from quant_engine import kernel  # noqa: PLC0415
    from quant_engine.compilation import compile_kernels  # noqa: PLC0415

    compile_kernels()
    before = [len(f.signatures) for f in (kernel.start, kernel.advance, kernel.finish)]
    assert all(count > 0 for count in before)
    config, frames = _setup(2, 2, 5, 10, True, False)
    for timing in FillTiming:
        compiled_run(
            build_strategy(config),
            frames,
            build_timeline(frames),
            BacktestConfig(fill_timing=timing),
            chunk_steps=100,
        )
    assert [len(f.signatures) for f in (kernel.start, kernel.advance, kernel.finish)] == before
