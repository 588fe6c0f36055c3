"""IbBroker (the LiveBroker port on ib_async) against FakeTws: the happy paths."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from quant_brokers.ib.client import IbBroker
from quant_domain import BrokerUnavailable, OrderStatus
from quant_domain.events import OrderAccepted, OrderCancelled, OrderFilled
from tests.fakes.tws import FakeTws
from tests.integration.brokers.ib_harness import (
    CLIENT_ID,
    broker,
    buy,
    fast_backoff,
    replay,
    settings,
)


@pytest.fixture
def tws() -> Iterator[FakeTws]:
    with FakeTws() as fake:
        fake.set_price("AAPL", 101.25)
        yield fake


def test_ib_broker_market_order_reports_accepted_then_filled_from_its_thread(tws: FakeTws) -> None:
    with broker(tws) as (ib, seen):
        ib.submit(buy(10, "c-1"))
        seen.wait(lambda: bool(seen.of(OrderFilled, "c-1")))
        order_id = ib.highest_order_id
    assert seen.kinds("c-1") == ["OrderAccepted", "OrderFilled"]
    accepted = seen.of(OrderAccepted, "c-1")[0]
    filled = seen.of(OrderFilled, "c-1")[0]
    assert isinstance(accepted, OrderAccepted)
    assert isinstance(filled, OrderFilled)
    assert accepted.broker_order_id == str(order_id)
    fill = filled.fill
    assert (fill.symbol, fill.quantity, fill.price, fill.commission) == (
        "AAPL",
        Decimal(10),
        Decimal("101.25"),
        Decimal(1),
    )
    assert fill.strategy_id == "s1"
    assert filled.broker_order_id == str(order_id)
    assert tws.placed == [(CLIENT_ID, order_id, "c-1")]
    assert seen.threads == {f"ib-{CLIENT_ID}"}
    assert replay(buy(10, "c-1"), seen.reports).status is OrderStatus.FILLED


def test_ib_broker_limit_order_cancel_reports_cancelled(tws: FakeTws) -> None:
    with broker(tws) as (ib, seen):
        ib.submit(buy(5, "c-lmt", limit="90"))
        seen.wait(lambda: bool(seen.of(OrderAccepted, "c-lmt")))
        assert [o.client_order_id for o in ib.open_orders()] == ["c-lmt"]
        ib.cancel("c-lmt", "test")
        seen.wait(lambda: bool(seen.of(OrderCancelled, "c-lmt")))
        assert ib.open_orders() == []
    assert seen.kinds("c-lmt") == ["OrderAccepted", "OrderCancelled"]
    assert replay(buy(5, "c-lmt", limit="90"), seen.reports).status is OrderStatus.CANCELLED


def test_ib_broker_repeated_submit_sends_nothing(tws: FakeTws) -> None:
    with broker(tws) as (ib, seen):
        order = buy(1, "c-twice", limit="90")
        ib.submit(order)
        ib.submit(order)
        seen.wait(lambda: bool(seen.of(OrderAccepted, "c-twice")))
        assert len(ib.open_orders()) == 1
    assert [p[2] for p in tws.placed] == ["c-twice"]


def test_ib_broker_summary_reads_the_account_without_an_order(tws: FakeTws) -> None:
    with broker(tws) as (ib, _):
        summary = ib.summary()
        snapshot = ib.account()
    assert (summary.broker, summary.account_id, summary.paper) == ("ib", "DU1234567", True)
    assert summary.endpoint == f"127.0.0.1:{tws.port}"
    assert (summary.cash, summary.equity) == (Decimal(100000), Decimal(100000))
    assert summary.can_trade is True
    assert snapshot.buying_power == Decimal(400000)
    assert tws.placed == []


def test_ib_broker_unreachable_gateway_raises_broker_unavailable() -> None:
    with FakeTws() as fake:
        port = fake.port
    stub = FakeTws()
    stub.port = port
    ib = IbBroker(settings(stub), client_id=1, backoff=fast_backoff())
    with pytest.raises(BrokerUnavailable, match=f"127.0.0.1:{port}"):
        ib.connect(timeout=0.3)
    ib.close()
    assert ib.connected is False


def test_ib_broker_read_from_inside_a_handler_raises_instead_of_deadlocking(
    tws: FakeTws,
) -> None:
    errors: list[BaseException] = []
    with broker(tws) as (ib, seen):

        def nested(report: object) -> None:
            seen.report(report)  # type: ignore[arg-type]
            try:
                ib.positions()
            except RuntimeError as exc:
                errors.append(exc)

        ib.set_report_handler(nested)
        ib.submit(buy(1, "c-nested"))
        seen.wait(lambda: bool(seen.of(OrderFilled, "c-nested")))
        assert ib.positions() == {"AAPL": Decimal(1)}
    assert len(errors) == 2
    assert "another thread" in str(errors[0])


def test_ib_broker_account_the_gateway_does_not_manage_raises_broker_unavailable(
    tws: FakeTws,
) -> None:
    wrong = settings(tws).model_copy(update={"account": "DU999"})
    ib = IbBroker(wrong, client_id=CLIENT_ID, backoff=fast_backoff())
    with pytest.raises(BrokerUnavailable, match="DU999"):
        ib.connect(timeout=0.3)
    ib.close()
    assert tws.placed == []


def test_ib_broker_closed_then_connected_again_trades_on(tws: FakeTws) -> None:
    with broker(tws) as (ib, seen):
        ib.submit(buy(1, "c-before", limit="90"))
        seen.wait(lambda: bool(seen.of(OrderAccepted, "c-before")))
        ib.close()
        assert ib.connected is False
        ib.connect(timeout=5)
        assert [o.client_order_id for o in ib.open_orders()] == ["c-before"]
        ib.submit(buy(1, "c-after"))
        seen.wait(lambda: bool(seen.of(OrderFilled, "c-after")))
    ids = [order_id for _, order_id, _ in tws.placed]
    assert ids == sorted(set(ids))
