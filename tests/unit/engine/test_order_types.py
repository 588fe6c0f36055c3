"""Limit, stop and stop-limit orders fill where the bar's range reaches them; TIF rules hold."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from quant_domain import (
    Bar,
    MarketState,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    PortfolioView,
    Signal,
    SignalDirection,
    TimeInForce,
)
from quant_engine import BacktestConfig, BacktestEngine, build_timeline
from quant_engine.fill_models import limit_reference, stop_reference, working_reference
from quant_strategy import Strategy, StrategyParams
from tests.factories import frame, strategy_config


class _OneOrder(Strategy[StrategyParams]):
    """Places `order_kwargs` once, on the first step."""

    order_kwargs: ClassVar[dict[str, Any]] = {}

    def on_start(self) -> None:
        self.sent = False

    def on_market_data(self, bar: Bar) -> None:
        pass

    def generate_signals(self, state: MarketState) -> list[Signal]:
        if self.sent:
            return []
        self.sent = True
        return [Signal("TEST", SignalDirection.LONG, state.timestamp)]

    def risk_check(self, signals: list[Signal], portfolio: PortfolioView) -> list[Order]:
        return [Order(symbol="TEST", **self.order_kwargs)]


def _run(bars: dict[str, list[float]], allow_short: bool = False, **order: Any):  # type: ignore[no-untyped-def]
    strategy = type("S", (_OneOrder,), {"order_kwargs": order})()
    strategy.initialize(strategy_config(risk={"allow_short": allow_short}))
    timeline = build_timeline(
        {"TEST": frame(bars["close"], opens=bars["open"], highs=bars["high"], lows=bars["low"])}
    )
    bt = BacktestConfig(slippage_bps=Decimal(0), commission_per_trade=Decimal(0))
    return BacktestEngine(bt).run(strategy, timeline)


BARS = {
    "open": [100, 100, 97, 103],
    "high": [101, 101, 98, 106],
    "low": [99, 98.5, 95, 102],
    "close": [100, 99, 96, 105],
}


def test_buy_limit_waits_until_low_reaches_it_and_fills_at_limit() -> None:
    run = _run(
        BARS,
        side=OrderSide.BUY,
        quantity=Decimal(1),
        type=OrderType.LIMIT,
        limit_price=Decimal(98),
        time_in_force=TimeInForce.GTC,
    )
    assert [(f.price, f.timestamp.day) for f in run.fills] == [
        (Decimal(97), 3)
    ]  # gapped open below limit


def test_buy_limit_fills_at_limit_when_range_touches_it() -> None:
    run = _run(
        BARS,
        side=OrderSide.BUY,
        quantity=Decimal(1),
        type=OrderType.LIMIT,
        limit_price=Decimal("98.5"),
        time_in_force=TimeInForce.GTC,
    )
    assert [(f.price, f.timestamp.day) for f in run.fills] == [(Decimal("98.5"), 2)]


def test_limit_is_never_evaluated_on_the_bar_it_was_placed() -> None:
    # the first bar's low (99) reaches the limit, but the order exists only after that bar closed
    run = _run(
        BARS,
        side=OrderSide.BUY,
        quantity=Decimal(1),
        type=OrderType.LIMIT,
        limit_price=Decimal(99),
        time_in_force=TimeInForce.GTC,
    )
    assert run.fills[0].timestamp.day == 2


def test_day_limit_expires_after_its_first_day_unfilled() -> None:
    run = _run(
        BARS,
        side=OrderSide.BUY,
        quantity=Decimal(1),
        type=OrderType.LIMIT,
        limit_price=Decimal(96),
        time_in_force=TimeInForce.DAY,
    )
    assert run.fills == []
    assert run.orders[0].status is OrderStatus.EXPIRED
    # placed at day 1's close, it lives through session 2 and expires at its close: on the
    # 24-hour calendar of this data, midnight at the end of day 2
    assert run.orders[0].closed_at == datetime(2024, 1, 3, tzinfo=UTC)


def test_ioc_limit_cancelled_when_first_bar_cannot_fill() -> None:
    run = _run(
        BARS,
        side=OrderSide.BUY,
        quantity=Decimal(1),
        type=OrderType.LIMIT,
        limit_price=Decimal(96),
        time_in_force=TimeInForce.IOC,
    )
    assert run.orders[0].status is OrderStatus.CANCELLED
    assert "IOC" in run.orders[0].reason


def test_sell_stop_triggers_on_low_and_fills_at_gapped_open() -> None:
    run = _run(
        BARS,
        allow_short=True,  # a sell from flat opens a short: the risk gate refuses it otherwise
        side=OrderSide.SELL,
        quantity=Decimal(1),
        type=OrderType.STOP,
        stop_price=Decimal(98),
        time_in_force=TimeInForce.GTC,
    )
    assert [(f.price, f.timestamp.day) for f in run.fills] == [(Decimal(97), 3)]


def test_buy_stop_triggers_when_high_reaches_stop() -> None:
    run = _run(
        BARS,
        side=OrderSide.BUY,
        quantity=Decimal(1),
        type=OrderType.STOP,
        stop_price=Decimal(104),
        time_in_force=TimeInForce.GTC,
    )
    assert [(f.price, f.timestamp.day) for f in run.fills] == [(Decimal(104), 4)]


def test_buy_stop_limit_gapping_past_limit_keeps_working_as_limit() -> None:
    # triggers on day 4 (high 106 >= 102) but opens at 103 above the 102.5 limit; never fills after
    run = _run(
        BARS,
        side=OrderSide.BUY,
        quantity=Decimal(1),
        type=OrderType.STOP_LIMIT,
        stop_price=Decimal(102),
        limit_price=Decimal("102.5"),
        time_in_force=TimeInForce.GTC,
    )
    assert run.fills == []
    assert run.orders[0].status is OrderStatus.CANCELLED  # still working when data ended


def test_fill_model_reference_prices() -> None:
    assert limit_reference(True, 98.0, 100.0, 101.0, 97.0) == 98.0
    assert limit_reference(True, 98.0, 96.0, 99.0, 95.0) == 96.0
    assert limit_reference(False, 102.0, 100.0, 101.0, 97.0) == -1.0
    assert limit_reference(False, 102.0, 103.0, 104.0, 101.0) == 103.0
    assert stop_reference(True, 104.0, 103.0) == 104.0
    assert stop_reference(False, 98.0, 97.0) == 97.0
    ref, triggered = working_reference(
        OrderType.STOP_LIMIT, OrderSide.SELL, 97.5, 98.0, False, 99.0, 99.5, 97.0
    )
    assert (ref, triggered) == (98.0, True)


def test_limit_fill_slippage_never_breaches_limit() -> None:
    strategy = type(
        "S",
        (_OneOrder,),
        {
            "order_kwargs": {
                "side": OrderSide.BUY,
                "quantity": Decimal(1),
                "type": OrderType.LIMIT,
                "limit_price": Decimal("98.5"),
                "time_in_force": TimeInForce.GTC,
            }
        },
    )()
    strategy.initialize(strategy_config())
    tl = build_timeline(
        {"TEST": frame(BARS["close"], opens=BARS["open"], highs=BARS["high"], lows=BARS["low"])}
    )
    run = BacktestEngine(BacktestConfig(slippage_bps=Decimal(50))).run(strategy, tl)
    assert run.fills[0].price == Decimal("98.5")
