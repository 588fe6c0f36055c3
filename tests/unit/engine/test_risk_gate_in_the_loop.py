"""The engine's risk gate sits after every strategy's sizing: overriding risk_check cannot bypass it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

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
from quant_domain.instruments import Instrument
from quant_engine import (
    BacktestConfig,
    BacktestEngine,
    EngineRun,
    FillTiming,
    Ledger,
    TradingLoop,
    build_timeline,
)
from quant_engine.sim import SimulatedBroker
from quant_engine.sim.clock import TimelineClock
from quant_engine.vectorised import unsupported_reason
from quant_strategy import Strategy, StrategyParams, build_strategy
from tests.factories import frame, strategy_config

NO_COSTS = BacktestConfig(slippage_bps=Decimal(0), commission_per_trade=Decimal(0))


class _Reckless(Strategy[StrategyParams]):
    """Ignores its caps: sends `orders` on the first step, whatever the sizer would say."""

    orders: ClassVar[list[tuple[OrderSide, Decimal]]] = []

    def on_start(self) -> None:
        self.sent = False

    def on_market_data(self, bar: Bar) -> None:
        del bar

    def generate_signals(self, state: MarketState) -> list[Signal]:
        if self.sent:
            return []
        self.sent = True
        return [Signal("TEST", SignalDirection.LONG, state.timestamp)]

    def risk_check(self, signals: list[Signal], portfolio: PortfolioView) -> list[Order]:
        del signals, portfolio
        return [Order("TEST", side, quantity) for side, quantity in self.orders]


def _run(
    orders: list[tuple[OrderSide, Decimal]], bt: BacktestConfig = NO_COSTS, **risk: Any
) -> EngineRun:
    strategy = type("S", (_Reckless,), {"orders": orders})()
    strategy.initialize(strategy_config(risk=risk))
    return BacktestEngine(bt).run(strategy, build_timeline({"TEST": frame([100.0, 101, 102])}))


def test_a_short_from_an_overridden_risk_check_is_rejected_when_shorting_is_off() -> None:
    run = _run([(OrderSide.SELL, Decimal(10))])
    (record,) = run.orders
    assert (record.status, record.code) == (OrderStatus.REJECTED, "SHORT_NOT_ALLOWED")
    assert "allow_short" in record.reason
    assert run.fills == []


def test_the_same_short_passes_when_the_config_allows_shorting() -> None:
    run = _run([(OrderSide.SELL, Decimal(10))], allow_short=True)
    assert run.orders[0].status is OrderStatus.FILLED


def test_a_position_past_the_equity_cap_is_rejected_and_names_the_limit() -> None:
    run = _run([(OrderSide.BUY, Decimal(600))], max_position_pct=0.5)  # 60,000 of 100,000
    (record,) = run.orders
    assert (record.status, record.code) == (OrderStatus.REJECTED, "POSITION_PCT_CAP")
    assert "max_position_pct" in record.reason


def test_a_position_past_the_quantity_cap_is_rejected() -> None:
    run = _run([(OrderSide.BUY, Decimal(20))], max_position_qty=10)
    assert run.orders[0].code == "POSITION_QTY_CAP"


def test_gross_exposure_past_its_cap_is_rejected_with_margin_allowed() -> None:
    bt = BacktestConfig(slippage_bps=Decimal(0), commission_per_trade=Decimal(0), allow_margin=True)
    run = _run([(OrderSide.BUY, Decimal(1500))], bt, max_position_pct=2.0, max_gross_exposure=1.2)
    assert run.orders[0].code == "GROSS_EXPOSURE_CAP"


def test_an_order_over_the_notional_cap_is_rejected() -> None:
    run = _run([(OrderSide.BUY, Decimal(100))], max_order_notional=5_000)
    assert run.orders[0].code == "ORDER_NOTIONAL_CAP"


def test_orders_past_the_rate_limit_are_rejected_in_simulated_time() -> None:
    run = _run([(OrderSide.BUY, Decimal(1))] * 4, max_orders_per_minute=3)
    assert [r.code for r in run.orders] == ["", "", "", "ORDER_RATE"]


def test_gate_rejections_hold_with_next_open_fills_too() -> None:
    bt = NO_COSTS.model_copy(update={"fill_timing": FillTiming.NEXT_OPEN})
    run = _run([(OrderSide.SELL, Decimal(10))], bt)
    assert run.orders[0].code == "SHORT_NOT_ALLOWED"


class _RecklessWithTargets(_Reckless):
    def vector_targets(self, symbol: str, frame: pd.DataFrame) -> npt.NDArray[np.float64] | None:
        del symbol
        return np.ones(len(frame))


def test_the_fast_path_refuses_a_strategy_that_overrides_risk_check() -> None:
    strategy = _RecklessWithTargets()
    strategy.initialize(strategy_config())
    reason = unsupported_reason(strategy, NO_COSTS)
    assert reason is not None
    assert "risk_check" in reason


def test_a_short_of_an_instrument_that_cannot_be_shorted_is_rejected_even_when_allowed() -> None:
    strategy = type("S", (_Reckless,), {"orders": [(OrderSide.SELL, Decimal(10))]})()
    strategy.initialize(strategy_config(risk={"allow_short": True}))
    hard_to_borrow = {"TEST": Instrument("TEST", shortable=False)}
    run = BacktestEngine(NO_COSTS).run(
        strategy, build_timeline({"TEST": frame([100.0, 101, 102])}), instruments=hard_to_borrow
    )
    assert run.orders[0].code == "SHORT_NOT_ALLOWED"


class _OddLimit(_Reckless):
    def risk_check(self, signals: list[Signal], portfolio: PortfolioView) -> list[Order]:
        del signals, portfolio
        return [
            Order(
                "TEST",
                OrderSide.BUY,
                Decimal(1),
                type=OrderType.LIMIT,
                limit_price=Decimal("99.987"),
            ),
            Order(
                "TEST",
                OrderSide.SELL,
                Decimal(1),
                type=OrderType.STOP,
                stop_price=Decimal("95.001"),
                time_in_force=TimeInForce.GTC,
            ),
        ]


def _loop_over(tick_prices: bool) -> TradingLoop:
    strategy = _OddLimit()
    strategy.initialize(strategy_config(risk={"allow_short": True}))
    timeline = build_timeline({"TEST": frame([100.0, 101, 102])})
    ledger = Ledger(timeline.symbols, Decimal(100_000))
    clock = TimelineClock(timeline)
    broker = SimulatedBroker(NO_COSTS, timeline, ledger, clock)
    loop = TradingLoop(
        strategy,
        ledger,
        broker,
        clock,
        sizing=NO_COSTS.sizing,
        instruments={"TEST": Instrument("TEST", tick_size=Decimal("0.01"))},
        tick_prices=tick_prices,
    )
    first = timeline.times[0]
    loop.step(first, [Bar("TEST", first, 100.0, 100.0, 100.0, 100.0, 1.0)])
    return loop


def test_prices_go_on_the_tick_never_more_aggressive_for_a_broker_that_requires_it() -> None:
    limit, stop = (record.order for record in _loop_over(tick_prices=True).orders)
    assert limit.limit_price == Decimal("99.98")  # a buy limit rounds down
    assert stop.stop_price == Decimal("95.00")  # a sell stop rounds down: it fires no earlier


def test_the_simulated_broker_takes_the_strategys_own_prices() -> None:
    limit, stop = (record.order for record in _loop_over(tick_prices=False).orders)
    assert (limit.limit_price, stop.stop_price) == (Decimal("99.987"), Decimal("95.001"))


def test_an_order_decided_before_the_open_is_refused_as_market_closed() -> None:
    # hourly XNYS bars from 12:00 UTC (07:00 New York, pre-market) on a regular session
    bars = frame([100.0, 101, 102, 103, 104], start="2024-03-05 12:00", freq="h")
    strategy = build_strategy(strategy_config(params={"script": {0: "long", 4: "long"}}))
    run = BacktestEngine(NO_COSTS).run(strategy, build_timeline({"TEST": bars}, "XNYS"))
    assert [(r.status, r.code) for r in run.orders] == [
        (OrderStatus.REJECTED, "MARKET_CLOSED"),
        (OrderStatus.FILLED, ""),  # 16:00 UTC is 11:00 in New York: open
    ]
