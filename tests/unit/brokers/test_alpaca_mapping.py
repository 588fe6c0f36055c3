"""Alpaca <-> domain translation: reports derived from an order's state, positions, requests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.models import Position
from alpaca.trading.requests import LimitOrderRequest

from quant_brokers.alpaca import mapping
from quant_domain import Order, OrderSide, OrderType
from quant_domain.events import OrderAccepted, OrderCancelled, OrderFilled
from tests.fakes.alpaca_broker_book import FakeOrder

AT = datetime(2026, 12, 7, 15, tzinfo=UTC)


def snapshot(status: str, filled: str, notional: str) -> AlpacaOrder:
    order = FakeOrder(
        id="8b1a4c1e-0000-4000-8000-000000000001",
        client_order_id="c-1",
        symbol="AAPL",
        side="buy",
        qty=Decimal(10),
        type="market",
        time_in_force="day",
        limit_price=None,
        created_at=AT,
        status=status,
        filled_qty=Decimal(filled),
        notional_filled=Decimal(notional),
    )
    return AlpacaOrder(**order.to_json())


def test_mapping_missed_partial_fills_become_one_fill_at_the_price_that_keeps_the_average() -> None:
    seen = mapping.OrderProgress("c-1", "s1")
    first = mapping.reports(seen, snapshot("partially_filled", "4", "400"), AT, None)
    assert [type(r) for r in first] == [OrderAccepted, OrderFilled]
    # two more executions (3 @ 101, 3 @ 104) happened while the stream was down
    later = mapping.reports(seen, snapshot("filled", "10", "1015"), AT, None)
    (fill,) = [r.fill for r in later if isinstance(r, OrderFilled)]
    assert fill.quantity == Decimal(6)
    assert fill.price == Decimal("102.5")
    assert fill.fill_id == "8b1a4c1e-0000-4000-8000-000000000001:10"
    assert seen.final


def test_mapping_a_repeated_or_older_state_reports_nothing() -> None:
    seen = mapping.OrderProgress("c-1")
    mapping.reports(seen, snapshot("partially_filled", "6", "600"), AT, None)
    assert mapping.reports(seen, snapshot("partially_filled", "4", "400"), AT, None) == []
    assert mapping.reports(seen, snapshot("partially_filled", "6", "600"), AT, None) == []


def test_mapping_cancel_after_a_partial_fill_reports_the_fill_then_the_cancel() -> None:
    seen = mapping.OrderProgress("c-1", accepted=True, cancel_reason="flatten")
    out = mapping.reports(seen, snapshot("canceled", "2", "200"), AT, None)
    assert [type(r) for r in out] == [OrderFilled, OrderCancelled]
    assert out[1].reason == "flatten"


def test_mapping_stream_execution_price_is_used_when_it_covers_the_new_quantity() -> None:
    seen = mapping.OrderProgress("c-1", accepted=True)
    execution = (Decimal(4), Decimal("99.5"), "exec-1")
    (fill,) = mapping.reports(seen, snapshot("partially_filled", "4", "398"), AT, execution)
    assert isinstance(fill, OrderFilled)
    assert fill.fill.price == Decimal("99.5")
    assert fill.note == "alpaca execution exec-1"


def test_mapping_short_position_is_negative() -> None:
    position = Position(
        asset_id="8b1a4c1e-0000-4000-8000-000000000002",
        symbol="TSLA",
        exchange="NASDAQ",
        asset_class="us_equity",
        avg_entry_price="200",
        qty="-3",
        side="short",
        cost_basis="-600",
    )
    assert mapping.positions([position]) == {"TSLA": Decimal(-3)}


def test_mapping_limit_order_request_carries_the_client_order_id() -> None:
    order = Order(
        symbol="AAPL",
        side=OrderSide.SELL,
        quantity=Decimal("2.5"),
        type=OrderType.LIMIT,
        limit_price=Decimal("101.25"),
        client_order_id="s1-2026-12-07-0001",
    )
    request = mapping.order_request(order)
    assert isinstance(request, LimitOrderRequest)
    fields = request.to_request_fields()
    assert fields["client_order_id"] == "s1-2026-12-07-0001"
    assert (fields["qty"], fields["limit_price"], fields["side"]) == (2.5, 101.25, "sell")
