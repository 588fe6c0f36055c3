"""quant_brokers.ib.mapping: our orders as ib_async's and back, fills, account values."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from ib_async import AccountValue, CommissionReport, Execution, Fill, Stock

from quant_brokers.ib import mapping
from quant_domain import Order, OrderSide, OrderType, TimeInForce


def order(kind: OrderType, **prices: Decimal) -> Order:
    return Order(
        symbol="AAPL",
        side=OrderSide.SELL,
        quantity=Decimal(7),
        type=kind,
        time_in_force=TimeInForce.GTC,
        client_order_id="s1-000042",
        strategy_id="s1",
        **prices,
    )


def test_ib_order_market_carries_client_order_id_as_order_ref() -> None:
    wire = mapping.ib_order(order(OrderType.MARKET), "DU1")
    assert (wire.orderType, wire.action, wire.totalQuantity) == ("MKT", "SELL", 7.0)
    assert (wire.orderRef, wire.tif, wire.account) == ("s1-000042", "GTC", "DU1")


def test_ib_order_priced_types_map_limit_and_stop_prices() -> None:
    limit = mapping.ib_order(order(OrderType.LIMIT, limit_price=Decimal("101.25")), "")
    stop = mapping.ib_order(order(OrderType.STOP, stop_price=Decimal(99)), "")
    both = mapping.ib_order(
        order(OrderType.STOP_LIMIT, limit_price=Decimal("98.5"), stop_price=Decimal(99)), ""
    )
    assert (limit.orderType, limit.lmtPrice) == ("LMT", 101.25)
    assert (stop.orderType, stop.auxPrice) == ("STP", 99.0)
    assert (both.orderType, both.lmtPrice, both.auxPrice) == ("STP LMT", 98.5, 99.0)


def test_domain_order_round_trips_every_type() -> None:
    cases = [
        order(OrderType.MARKET),
        order(OrderType.LIMIT, limit_price=Decimal("101.25")),
        order(OrderType.STOP, stop_price=Decimal(99)),
        order(OrderType.STOP_LIMIT, limit_price=Decimal("98.5"), stop_price=Decimal(99)),
    ]
    for ours in cases:
        back = mapping.domain_order("AAPL", mapping.ib_order(ours, "DU1"), "s1")
        assert back == ours


def test_domain_order_without_order_ref_is_not_ours() -> None:
    wire = mapping.ib_order(order(OrderType.MARKET), "")
    wire.orderRef = ""
    assert mapping.domain_order("AAPL", wire) is None


def test_decimal_wire_floats_keep_their_written_value() -> None:
    assert mapping.decimal(101.25) == Decimal("101.25")
    assert str(mapping.decimal(10.0)) == "10"
    assert mapping.decimal(0.1) == Decimal("0.1")
    assert mapping.decimal(None) == Decimal(0)


def test_exec_base_drops_the_correction_suffix() -> None:
    assert mapping.exec_base("0000e0d5.6574a2b1.01.01") == "0000e0d5.6574a2b1.01"
    assert mapping.exec_base("plain") == "plain"


def test_domain_fill_takes_exec_id_side_and_commission() -> None:
    at = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
    execution = Execution(
        execId="0001.02.01.01", time=at, side="SLD", shares=3.0, price=99.5, orderRef="c-9"
    )
    ib_fill = Fill(
        Stock("AAPL", "SMART", "USD"), execution, CommissionReport("0001.02.01.01", 1.0), at
    )
    fill = mapping.domain_fill(ib_fill, "s1")
    assert (fill.fill_id, fill.client_order_id, fill.side) == (
        "0001.02.01.01",
        "c-9",
        OrderSide.SELL,
    )
    assert (fill.quantity, fill.price, fill.commission) == (Decimal(3), Decimal("99.5"), Decimal(1))
    assert (fill.timestamp, fill.strategy_id) == (at, "s1")


def test_account_values_keep_numbers_of_the_account_only() -> None:
    rows = [
        AccountValue("DU1", "AccountType", "INDIVIDUAL", "", ""),
        AccountValue("DU1", "NetLiquidation", "1234.5", "USD", ""),
        AccountValue("DU2", "NetLiquidation", "99", "USD", ""),
        AccountValue("DU1", "TotalCashValue", "10", "EUR", ""),
    ]
    assert mapping.account_values(rows, "DU1") == {"NetLiquidation": Decimal("1234.5")}
