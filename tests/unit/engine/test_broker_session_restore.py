"""A session on a real broker taken up after a restart (ADR 0042): it takes in the stored orders
and fills without sending or writing anything, numbers its next order after the highest stored
id, drops what a new adapter repeats of the store, and on a shared account compares the broker
with every session's books."""

from __future__ import annotations

import time
from decimal import Decimal

from quant_domain import Fill, Order, OrderSide, OrderStatus
from quant_domain.events import OrderAccepted, OrderFilled
from quant_engine.broker_session import BrokerSession, StoredOrder
from quant_engine.reconciliation import ReconciliationState
from tests.fakes.loopback_broker import LoopbackBroker
from tests.unit.engine.test_broker_session import feed, live, steps


def traded(n: int) -> tuple[BrokerSession, LoopbackBroker]:
    """A session that traded `n` steps through its broker, as the killed process had."""
    broker = LoopbackBroker(delay=0)
    session = live(broker)
    session.reconcile_own_books()
    feed(session, broker, steps()[:n])
    return session, broker


def stored(session: BrokerSession) -> tuple[list[StoredOrder], list[tuple[Fill, str]]]:
    """What the store holds of `session`: its orders (full quantity) and its fills."""
    orders = [
        StoredOrder(
            r.order,
            r.status,
            r.submitted_at,
            r.broker_order_id,
            r.reason,
            r.code,
            r.closed_at,
        )
        for r in session.loop.orders
    ]
    return orders, [(fill, "") for fill in session.loop.fills]


def test_a_restored_session_holds_the_stored_positions_and_cash_and_sends_nothing() -> None:
    before, broker = traded(120)
    assert before.loop.fills
    orders, fills = stored(before)
    fresh = LoopbackBroker(delay=0)
    after = live(fresh)
    after.restore(orders, fills)
    assert after.positions() == before.positions()
    assert after.ledger.cash_dec == before.ledger.cash_dec
    assert set(after.working_orders()) == set(before.working_orders())
    assert [r.status for r in after.loop.orders] == [r.status for r in before.loop.orders]
    assert after.restored == {r.order.client_order_id for r in before.loop.orders}
    assert fresh.submitted == []  # nothing was sent
    broker.close()
    fresh.close()


def test_a_restored_session_numbers_its_next_order_after_the_highest_stored_id() -> None:
    data = steps()
    before, broker = traded(120)
    orders, fills = stored(before)
    session = live(broker)  # the same exchange: it holds what the first session traded
    session.restore(orders, fills)
    assert session.reconcile_own_books().state is ReconciliationState.CLEAN
    feed(session, broker, data[120:])
    new = [r.order.client_order_id for r in session.loop.orders[len(orders) :]]
    assert new  # it traded on
    old = {o.order.client_order_id for o in orders}
    assert not old & set(new)
    assert max(new) > max(old)  # same session date, the sequence carries on
    broker.close()


def test_reports_that_repeat_the_store_or_name_an_order_it_does_not_hold_are_not_applied() -> None:
    before, broker = traded(120)
    orders, fills = stored(before)
    fresh = LoopbackBroker(delay=0)
    session = live(fresh)
    session.restore(orders, fills)
    done = next(r for r in session.loop.orders if r.status is OrderStatus.FILLED)
    fill = next(f for f in session.loop.fills if f.client_order_id == done.order.client_order_id)
    cash = session.ledger.cash_dec
    report = fresh._report  # the handler the session installed on its adapter
    report(OrderAccepted(done.order.client_order_id, "B-1", fill.timestamp))
    report(OrderFilled(fill, "B-1"))
    stranger = Order(symbol="AAA", side=OrderSide.BUY, quantity=Decimal(1), client_order_id="x-1")
    report(OrderAccepted(stranger.client_order_id, "B-2", fill.timestamp))
    assert session.drain() == 3  # applied without an illegal transition
    assert done.status is OrderStatus.FILLED
    assert session.ledger.cash_dec == cash  # no fill counted twice
    assert "x-1" not in {r.order.client_order_id for r in session.loop.orders}
    broker.close()
    fresh.close()


def test_a_reconnect_on_a_shared_account_compares_it_with_every_sessions_books() -> None:
    broker = LoopbackBroker(delay=0)
    session = live(broker)
    session.reconcile_own_books()
    broker.set_price("AAA", Decimal(10))
    # another strategy's order on the same account fills: the account holds its position
    broker.submit(
        Order(symbol="AAA", side=OrderSide.BUY, quantity=Decimal(5), client_order_id="o-1")
    )
    deadline = time.monotonic() + 5
    while not broker.positions() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert session.reconcile_own_books().state is ReconciliationState.BLOCKED  # alone: differs
    session.others = lambda: ({}, {"AAA": Decimal(5)})
    assert session.reconcile_own_books().state is ReconciliationState.CLEAN  # summed: agrees
    broker.close()
