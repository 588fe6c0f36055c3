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
    OrderStatus,
    OrderType,
    PortfolioView,
    Signal,
    SignalDirection,
    TimeInForce,
)
from quant_domain.events import OrderCancelled, OrderFilled
from quant_engine import BacktestConfig, Ledger, TradingLoop, build_timeline
from quant_engine.reconciliation import (
    DifferenceKind,
    PositionTaken,
    ReconciliationState,
    adoption,
    reconcile,
    reported,
)
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


def _limit(cid: str, quantity: int, price: int, strategy_id: str = "") -> Order:
    return Order(
        "TEST",
        OrderSide.BUY,
        Decimal(quantity),
        type=OrderType.LIMIT,
        limit_price=Decimal(price),
        time_in_force=TimeInForce.GTC,
        client_order_id=cid,
        strategy_id=strategy_id,
    )


def test_adoption_takes_in_the_brokers_orders_and_positions_and_drops_ours_it_lacks() -> None:
    broker, account, _, _ = _broker()
    _holds(account, 10)
    broker.submit(_limit("unnamed", 1, 90))
    broker.submit(_limit("named", 2, 80, strategy_id="other"))
    ours = {"lost": _limit("lost", 3, 70, strategy_id="mine")}
    plan = adoption(
        broker, ours, {"TEST": Decimal(4)}, strategy_id="mine", cost={"TEST": Decimal(100)}
    )
    assert [(o.client_order_id, o.strategy_id) for o in plan.orders] == [
        ("unnamed", "mine"),  # the broker does not say whose: the session's strategy
        ("named", "other"),  # it does: kept
    ]
    assert plan.dropped == ("lost",)
    assert plan.positions == (PositionTaken("TEST", Decimal(4), Decimal(10), Decimal(100)),)
    assert plan.positions[0].change == 6
    # what is taken in is exactly what made the books differ
    taken = {o.client_order_id: o for o in plan.orders}
    assert reconcile(broker, taken, {"TEST": Decimal(10)}, broker.now).state is (
        ReconciliationState.CLEAN
    )
    assert not adoption(broker, taken, {"TEST": Decimal(10)}, strategy_id="mine")


def test_an_adopted_order_is_pending_in_the_gate_and_its_fill_and_end_apply_like_any_order() -> (
    None
):
    broker, account, clock, timeline = _broker()
    strategy = _BuysTen()
    strategy.initialize(strategy_config())
    loop = TradingLoop(strategy, account, broker, clock, sizing=CONFIG.sizing)
    broker.set_report_handler(lambda report: None)  # sent by an earlier session, not this loop
    broker.submit(_limit("earlier", 5, 200))
    broker.submit(_limit("earlier-2", 2, 50))
    broker.set_report_handler(loop.on_report)
    at = timeline.times[0]
    record = loop.adopt(_limit("earlier", 5, 200, strategy_id="test"), at)
    loop.adopt(_limit("earlier-2", 2, 50, strategy_id="test"), at)
    assert record.status is OrderStatus.ACCEPTED
    assert loop.gate.pending(0) == 7.0  # counted against the caps like the loop's own orders
    clock.step = 1
    broker.match(1)  # the next bar reaches the first one's limit
    assert [r.status for r in loop.orders] == [OrderStatus.FILLED, OrderStatus.ACCEPTED]
    assert account.positions["TEST"].quantity == 5
    broker.cancel("earlier-2", "not wanted")
    assert loop.orders[1].status is OrderStatus.CANCELLED
    assert loop.gate.pending(0) == 0.0
    [fill] = loop.fills
    assert reported(loop, "earlier") == [OrderFilled(fill, "")]
    assert reported(loop, "earlier-2") == [
        OrderCancelled("earlier-2", timeline.times[1], "not wanted")
    ]
    assert reported(loop, "never-seen") == []
