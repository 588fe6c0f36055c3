"""A hand-computed 10-bar backtest: every fill, fee and equity point to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quant_domain import OrderSide, PositionSizing, SizingMode, TradeDirection
from quant_engine import BacktestConfig, BacktestEngine, FillTiming, build_timeline
from quant_strategy import build_strategy
from tests.factories import frame, strategy_config

CLOSES = [100, 101, 102, 104, 103, 105, 107, 106, 104, 103]
SCRIPT = {2: "long", 5: "flat", 7: "short", 9: "flat"}


def _run(timing: FillTiming = FillTiming.CLOSE, opens: list[float] | None = None):  # type: ignore[no-untyped-def]
    config = strategy_config(params={"script": SCRIPT}, risk={"allow_short": True})
    strategy = build_strategy(config)
    bt = BacktestConfig(
        initial_capital=Decimal(10_000),
        commission_per_trade=Decimal("1.00"),
        slippage_bps=Decimal(10),
        fill_timing=timing,
        sizing=PositionSizing(mode=SizingMode.FIXED, quantity=Decimal(10)),
    )
    timeline = build_timeline({"TEST": frame(CLOSES, opens=opens)})
    return BacktestEngine(bt).run(strategy, timeline), strategy


def test_golden_ten_bars_fills_match_hand_computation() -> None:
    run, _ = _run()
    got = [(f.side, f.quantity, f.price, f.commission) for f in run.fills]
    assert got == [
        (OrderSide.BUY, Decimal(10), Decimal("102.102"), Decimal("1.00")),
        (OrderSide.SELL, Decimal(10), Decimal("104.895"), Decimal("1.00")),
        (OrderSide.SELL, Decimal(10), Decimal("105.894"), Decimal("1.00")),
        (OrderSide.BUY, Decimal(10), Decimal("103.103"), Decimal("1.00")),
    ]
    assert [f.timestamp.day for f in run.fills] == [3, 6, 8, 10]


def test_golden_ten_bars_equity_matches_to_the_cent() -> None:
    run, _ = _run()
    expected = [
        10000.00,
        10000.00,
        9997.98,
        10017.98,
        10007.98,
        10025.93,
        10025.93,
        10023.87,
        10043.87,
        10051.84,
    ]
    assert [round(v, 2) for v in run.equity] == expected
    assert run.final_equity == Decimal("10051.84")
    assert run.final_cash == Decimal("10051.84")
    assert run.total_fees == Decimal("4.00")


def test_golden_ten_bars_round_trips_net_of_fees() -> None:
    run, _ = _run()
    long, short = run.trades
    assert long.direction is TradeDirection.LONG
    assert (long.entry_price, long.exit_price, long.pnl) == (
        Decimal("102.102"),
        Decimal("104.895"),
        Decimal("25.93"),
    )
    assert short.direction is TradeDirection.SHORT
    assert (short.entry_price, short.exit_price, short.pnl) == (
        Decimal("105.894"),
        Decimal("103.103"),
        Decimal("25.91"),
    )
    assert long.bars_held == 3
    assert short.bars_held == 2
    assert run.final_positions == {}


def test_golden_next_open_fills_at_following_open_with_slippage() -> None:
    opens = [c - 0.5 for c in CLOSES]
    run, _ = _run(FillTiming.NEXT_OPEN, opens)
    assert [f.price for f in run.fills] == [
        Decimal("103.6035"),  # open of step 3 (103.5) x 1.001
        Decimal("106.3935"),  # open of step 6 (106.5) x 0.999
        Decimal("103.3965"),  # open of step 8 (103.5) x 0.999
    ]
    assert [f.timestamp.day for f in run.fills] == [4, 7, 9]
    # the last signal (step 9) has no next bar: the order is cancelled, not filled
    assert run.orders[-1].status.value == "cancelled"


def test_engine_calls_hooks_in_order_and_daily_close_each_day() -> None:
    _, strategy = _run()
    assert strategy.fills_seen == 4
    assert strategy.days_closed == 10
    assert [bar.close for bar in strategy.seen] == pytest.approx(CLOSES)
