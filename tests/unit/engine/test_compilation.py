"""compile_kernels() compiles the signatures real runs use, so a first sweep compiles nothing."""

from __future__ import annotations

from pathlib import Path

from quant_engine import BacktestConfig, FillTiming, kernel
from quant_engine.compilation import compile_kernels
from quant_engine.vectorised import PriceMatrix, simulate
from quant_features import compiled
from quant_marketdata import SampleSource, SyntheticSource
from quant_strategy import build_strategy, load_strategy_config

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"


def _signatures() -> list[int]:
    return [
        len(kernel.simulate.signatures),
        len(compiled._sma_running.signatures),
        len(compiled._ratio_targets.signatures),
    ]


def test_compile_kernels_leaves_nothing_to_compile_for_real_runs() -> None:
    assert compile_kernels() >= 0
    before = _signatures()
    assert all(count > 0 for count in before)
    synthetic = SyntheticSource(seed=5, n_symbols=3, n_bars=500)
    for frames in (
        {"SP500": SampleSource().get_bars("SP500")},
        {s: synthetic.get_bars(s) for s in synthetic.symbols()},
    ):
        for name in ("momentum_v1", "buy_and_hold"):
            config = load_strategy_config(CONFIGS / f"{name}.yaml").updated(
                universe=list(frames), benchmark=None
            )
            for timing in FillTiming:
                bt = BacktestConfig(fill_timing=timing)
                simulate(build_strategy(config), PriceMatrix.of(frames), bt, trade_from=10)
    assert _signatures() == before
