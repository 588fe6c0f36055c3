"""The parity report lines two runs up order by order and names every difference."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd

from quant_domain import PositionSizing, SizingMode
from quant_engine import BacktestConfig, BacktestEngine, EngineRun, build_timeline
from quant_engine.parity import DECISION, FILL_PRICE, IDENTICAL, MISSED_BAR, REJECTED, parity_report
from quant_marketdata import SampleSource
from quant_strategy import StrategyConfig, build_strategy, load_strategy_config

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"
FIXED = PositionSizing(mode=SizingMode.FIXED, quantity=Decimal(10))


def _frame() -> pd.DataFrame:
    return SampleSource().get_bars("SP500").loc["2012-01-01":"2016-12-31"]  # type: ignore[misc]


def _config(**risk: object) -> StrategyConfig:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(
        universe=["SP500"], benchmark=None, start=None, end=None
    )
    return config.updated(risk=config.risk.model_copy(update=risk))


def _run(
    config: StrategyConfig, bt: BacktestConfig, frame: pd.DataFrame | None = None
) -> EngineRun:
    timeline = build_timeline({"SP500": _frame() if frame is None else frame}, "XNYS")
    return BacktestEngine(bt).run(build_strategy(config), timeline, account="acct")


def test_two_runs_of_the_same_bars_and_config_are_identical() -> None:
    bt = BacktestConfig(sizing=FIXED)
    report = parity_report(_run(_config(), bt), _run(_config(), bt))
    assert report.identical
    assert report.summary().startswith("identical: ")
    assert {line.verdict for line in report.lines} == {IDENTICAL}


def test_another_fill_model_shows_as_fill_price_differences_only() -> None:
    cheap = BacktestConfig(sizing=FIXED, slippage_bps=Decimal(0))
    dear = BacktestConfig(sizing=FIXED, slippage_bps=Decimal(25))
    report = parity_report(_run(_config(), cheap), _run(_config(), dear))
    assert not report.identical
    assert set(report.counts()) == {FILL_PRICE}
    assert "final equity" in report.summary()


def test_a_risk_rule_in_one_run_shows_as_rejections_with_their_code() -> None:
    report = parity_report(
        _run(_config(), BacktestConfig(sizing=FIXED)),
        _run(_config(max_position_qty=5), BacktestConfig(sizing=FIXED)),
    )
    rejected = [line for line in report.lines if line.verdict == REJECTED]
    assert rejected
    assert all("POSITION_QTY_CAP" in line.detail for line in rejected)
    # with no position in the second run, the first run's exits have no counterpart
    assert DECISION in report.counts()


def test_an_order_decided_on_a_bar_the_other_run_lacks_is_a_missed_bar() -> None:
    first = _run(_config(), BacktestConfig(sizing=FIXED))
    decided = first.orders[3].submitted_at
    gappy = _frame().drop(index=pd.Timestamp(decided))
    second = _run(_config(), BacktestConfig(sizing=FIXED), gappy)
    missed = [line for line in parity_report(first, second).lines if line.verdict == MISSED_BAR]
    assert [line.decided_at for line in missed][:1] == [decided]
    assert "has no step at" in missed[0].detail
