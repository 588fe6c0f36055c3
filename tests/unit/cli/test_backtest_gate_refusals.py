"""The CLI says when the engine's risk gate refused orders, by rule."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from quant_cli.backtest_cmd import gate_refusals
from quant_domain import Order, OrderSide, OrderStatus
from quant_engine import OrderRecord

NOW = datetime(2024, 1, 2, tzinfo=UTC)


def _record(status: OrderStatus, code: str = "") -> OrderRecord:
    record = OrderRecord(order=Order("A", OrderSide.SELL, Decimal(1)), submitted_at=NOW)
    record.status = status
    record.code = code
    return record


def test_refusals_are_counted_by_rule_most_common_first() -> None:
    orders = [
        _record(OrderStatus.REJECTED, "POSITION_PCT_CAP"),
        _record(OrderStatus.REJECTED, "SHORT_NOT_ALLOWED"),
        _record(OrderStatus.REJECTED, "SHORT_NOT_ALLOWED"),
        _record(OrderStatus.FILLED),
    ]
    assert gate_refusals(orders) == "3 orders: SHORT_NOT_ALLOWED 2, POSITION_PCT_CAP 1"


def test_the_brokers_own_refusals_are_not_the_gates() -> None:
    assert gate_refusals([_record(OrderStatus.REJECTED, "INSUFFICIENT_CASH")]) == ""
    assert gate_refusals([_record(OrderStatus.FILLED)]) == ""
