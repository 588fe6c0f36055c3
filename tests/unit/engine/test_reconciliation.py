"""Reconciliation compares the broker with our books and blocks orders until they agree."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from quant_domain import (
    Bar,
    Fill,
    MarketState,
    Order,
    OrderSide,
    OrderType,
    PortfolioView,
    Signal,
    SignalDirection,
    TimeInForce,
)
from quant_engine import BacktestConfig, Ledger, TradingLoop, build_timeline
from quant_engine.reconciliation import DifferenceKind, ReconciliationState, reconcile
from quant_engine.sim import SimulatedBroker
from quant_engine.sim.clock import TimelineClock
from quant_strategy import Strategy, StrategyParams
from tests.factories import frame, strategy_config

CONFIG = BacktestConfig(slippage_bps=Decimal(0), commission_per_trade=Decimal(0))


class _BuysTen(Strategy[StrategyParams]):
    def on_market_data(self, bar: Bar) -> None:
        del bar

    def generate_signals(self, state: MarketState) -> list[Signal]:
        return [Signal("TEST", SignalDirection.LONG, state.timestamp)]

    def risk_check(self, signals: list[Signal], portfolio: PortfolioView) -> list[Order]:
        del signals, portfolio
        return [Order("TEST", OrderSide.BUY, Decimal(10))]


def _broker() -> tuple[SimulatedBroker, Ledger, TimelineClock, Any]:
    """A paper broker whose own account is apart from our books."""
    timeline = build_timeline({"TEST": frame([100.0, 101, 102])})
    account = Ledger(timeline.symbols, Decimal(100_000))
    clock = TimelineClock(timeline)
    return SimulatedBroker(CONFIG, timeline, account, clock), account, clock, timeline


def _holds(account: Ledger, quantity: int) -> None:
    now = build_timeline({"TEST": frame([100.0])}).times[0]
    account.apply(
        Fill("x1", "c1", "TEST", OrderSide.BUY, Decimal(quantity), Decimal(100), Decimal(0), now)
    )


def test_equal_books_are_clean() -> None:
    broker, account, clock, _ = _broker()
    _holds(account, 10)
    outcome = reconcile(broker, {}, {"TEST": Decimal(10)}, clock.now())
    assert (outcome.state, outcome.differences) == (ReconciliationState.CLEAN, ())


def test_a_position_the_broker_holds_and_we_lack_blocks() -> None:
    broker, account, clock, _ = _broker()
    _holds(account, 10)
    outcome = reconcile(broker, {}, {}, clock.now())
    assert outcome.state is ReconciliationState.BLOCKED
    (difference,) = outcome.differences
    assert (difference.kind, difference.key, difference.broker, difference.ours) == (
        DifferenceKind.POSITION_MISMATCH,
        "TEST",
        "10",
        "0",
    )
    assert outcome.to_json()["differences"][0]["kind"] == "position_mismatch"


def test_working_orders_on_one_side_only_block_both_ways() -> None:
    broker, _, clock, _ = _broker()
    left_over = Order(
        "TEST",
        OrderSide.BUY,
        Decimal(1),
        type=OrderType.LIMIT,
        limit_price=Decimal(90),
        time_in_force=TimeInForce.GTC,
        client_order_id="from-last-session",
    )
    broker.submit(left_over)
    ours_only = Order("TEST", OrderSide.SELL, Decimal(2), client_order_id="lost-in-flight")
    outcome = reconcile(broker, {"lost-in-flight": ours_only}, {}, clock.now())
    kinds = {(d.kind, d.key) for d in outcome.differences}
    assert kinds == {
        (DifferenceKind.UNKNOWN_BROKER_ORDER, "from-last-session"),
        (DifferenceKind.ORDER_NOT_AT_BROKER, "lost-in-flight"),
    }
    # adopting the broker's order as ours makes the next comparison clean
    again = reconcile(broker, {"from-last-session": left_over}, {}, clock.now())
    assert again.state is ReconciliationState.CLEAN


def test_no_order_leaves_the_loop_until_reconciliation_is_clean_and_none_is_made_to_fix_it() -> (
    None
):
    broker, account, clock, timeline = _broker()
    _holds(account, 10)
    strategy = _BuysTen()
    strategy.initialize(strategy_config())
    ours = Ledger(timeline.symbols, Decimal(100_000))
    loop = TradingLoop(strategy, ours, broker, clock, sizing=CONFIG.sizing)
    outcome = loop.reconcile({}, {})
    assert outcome.state is ReconciliationState.BLOCKED
    now = timeline.times[0]
    loop.step(now, [Bar("TEST", now, 100.0, 100.0, 100.0, 100.0, 1.0)])
    (refused,) = loop.orders
    assert refused.code == "RECONCILIATION_PENDING"
    assert broker.open_orders() == []  # nothing was sent, nothing "repaired"
    assert account.positions["TEST"].quantity == 10
    assert loop.reconcile({}, {"TEST": Decimal(10)}).state is ReconciliationState.CLEAN
    clock.step = 1
    later = timeline.times[1]
    loop.step(later, [Bar("TEST", later, 101.0, 101.0, 101.0, 101.0, 1.0)])
    assert loop.orders[-1].code == ""
