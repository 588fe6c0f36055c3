"""Commissions billed in cents by default, or exact when a run asks for it (to match engines
that do not round), with the event loop and the compiled kernel agreeing either way."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from quant_engine import BacktestConfig, BacktestEngine, build_timeline
from quant_engine.config import CommissionRounding
from quant_engine.vectorised import PriceMatrix, simulate
from quant_marketdata import SampleSource
from quant_strategy import build_strategy, load_strategy_config

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"
FRAMES = {"GOOG": SampleSource().get_bars("GOOG")}
COSTS = {"commission_per_trade": Decimal(0), "commission_bps": Decimal(10)}


def _run(rounding: CommissionRounding):  # type: ignore[no-untyped-def]
    bt = BacktestConfig(commission_rounding=rounding, **COSTS)
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(
        universe=["GOOG"], benchmark=None
    )
    event = BacktestEngine(bt).run(build_strategy(config), build_timeline(FRAMES))
    fast = simulate(build_strategy(config), PriceMatrix.of(FRAMES), bt)
    return bt, event, fast


def test_commission_rounding_defaults_to_the_cent() -> None:
    assert BacktestConfig().commission_rounding is CommissionRounding.CENT
    assert BacktestConfig().bill(Decimal("1234.567")) == Decimal("1.00")  # $1 a trade, no bps
    bps = BacktestConfig(**COSTS)
    assert bps.bill(Decimal("1234.567")) == Decimal("1.23")  # 1.234567 billed half-up


def test_commission_rounding_none_bills_the_exact_commission() -> None:
    exact = BacktestConfig(commission_rounding=CommissionRounding.NONE, **COSTS)
    assert exact.bill(Decimal("1234.567")) == Decimal("1.234567")


def test_commission_rounding_cent_bills_every_fill_in_whole_cents() -> None:
    _, event, _ = _run(CommissionRounding.CENT)
    assert event.fills
    assert all(f.commission == f.commission.quantize(Decimal("0.01")) for f in event.fills)


def test_commission_rounding_none_bills_every_fill_exactly_and_money_adds_up() -> None:
    bt, event, _ = _run(CommissionRounding.NONE)
    assert event.fills
    for fill in event.fills:
        assert fill.commission == fill.notional * Decimal(10) / Decimal(10_000)
    # at least one fill is billed a fraction of a cent: the setting changes something
    assert any(f.commission != f.commission.quantize(Decimal("0.01")) for f in event.fills)
    paid = sum((f.commission for f in event.fills), Decimal(0))
    flows = sum((-f.signed_quantity * f.price for f in event.fills), Decimal(0))
    assert float(event.final_cash) == pytest.approx(
        float(bt.initial_capital + flows - paid), abs=1e-6
    )


def test_commission_rounding_changes_the_result_by_cents_not_more() -> None:
    _, cents, _ = _run(CommissionRounding.CENT)
    _, exact, _ = _run(CommissionRounding.NONE)
    difference = abs(float(cents.final_equity) - float(exact.final_equity))
    assert 0 < difference < 0.01 * len(cents.fills)


@pytest.mark.parametrize("rounding", list(CommissionRounding))
def test_commission_rounding_kernel_matches_event_loop_fill_for_fill(
    rounding: CommissionRounding,
) -> None:
    _, event, fast = _run(rounding)
    expected = [
        (float(f.signed_quantity), float(f.price), float(f.commission)) for f in event.fills
    ]
    got = [(r[2], r[3], r[4]) for r in fast.fills]
    assert len(got) == len(expected) > 0
    for (eq, ep, ec), (gq, gp, gc) in zip(expected, got, strict=True):
        assert gq == pytest.approx(eq, rel=1e-12)
        assert gp == pytest.approx(ep, rel=1e-9)
        assert gc == pytest.approx(ec, abs=1e-9)
    assert fast.equity[-1] == pytest.approx(float(event.final_equity), rel=1e-9)
