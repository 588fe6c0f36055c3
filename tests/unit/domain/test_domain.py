"""Domain objects refuse impossible values and positions account correctly."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from quant_domain import (
    Bar,
    ConfigError,
    DataQualityError,
    Fill,
    Order,
    OrderError,
    OrderSide,
    OrderType,
    Position,
    Timeframe,
    ensure_utc,
    to_cents,
    to_decimal,
)

NOW = datetime(2024, 1, 2, tzinfo=UTC)


def _fill(side: OrderSide, qty: str, price: str, fee: str = "0") -> Fill:
    return Fill("f", "o", "A", side, Decimal(qty), Decimal(price), Decimal(fee), NOW)


def test_position_adds_at_average_price_and_realises_on_reduce() -> None:
    p = Position("A")
    assert p.apply(_fill(OrderSide.BUY, "10", "100")) == 0
    assert p.apply(_fill(OrderSide.BUY, "10", "110")) == 0
    assert p.avg_price == Decimal(105)
    assert p.apply(_fill(OrderSide.SELL, "5", "120")) == Decimal(75)
    assert (p.quantity, p.avg_price) == (Decimal(15), Decimal(105))


def test_position_flip_realises_old_side_and_opens_at_fill_price() -> None:
    p = Position("A", Decimal(10), Decimal(100))
    assert p.apply(_fill(OrderSide.SELL, "15", "90")) == Decimal(-100)
    assert (p.quantity, p.avg_price) == (Decimal(-5), Decimal(90))
    assert p.apply(_fill(OrderSide.BUY, "5", "80")) == Decimal(50)
    assert p.is_flat


def test_fill_cash_change_includes_fee_for_both_sides() -> None:
    assert _fill(OrderSide.BUY, "2", "10", "1").cash_change == Decimal(-21)
    assert _fill(OrderSide.SELL, "2", "10", "1").cash_change == Decimal(19)


def test_fill_refuses_negative_fee() -> None:
    with pytest.raises(ValueError, match="commission"):
        _fill(OrderSide.BUY, "1", "1", "-0.01")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantity": Decimal(0)}, "quantity must be > 0"),
        ({"quantity": Decimal(1), "type": OrderType.LIMIT}, "limit_price is required"),
        (
            {"quantity": Decimal(1), "type": OrderType.STOP_LIMIT, "limit_price": Decimal(1)},
            "stop_price is required",
        ),
        ({"quantity": Decimal(1), "limit_price": Decimal(1)}, "limit_price is not allowed"),
        (
            {"quantity": Decimal(1), "type": OrderType.LIMIT, "limit_price": Decimal(-1)},
            "limit_price must be",
        ),
    ],
)
def test_order_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(OrderError, match=message):
        Order(symbol="A", side=OrderSide.BUY, **kwargs)  # type: ignore[arg-type]


def test_bar_checked_refuses_inconsistent_prices() -> None:
    with pytest.raises(DataQualityError, match="high/low"):
        Bar.checked("A", NOW, 10, 9, 8, 10)
    with pytest.raises(DataQualityError, match="> 0"):
        Bar.checked("A", NOW, 0, 1, 0, 1)
    assert Bar.checked("A", NOW, 10, 11, 9, 10.5).close == 10.5


def test_timeframe_parse_and_errors() -> None:
    assert Timeframe.parse("4h").seconds == 14_400
    assert str(Timeframe.parse(" 1D ")) == "1d"
    with pytest.raises(ConfigError, match="invalid timeframe"):
        Timeframe.parse("1y")


def test_money_helpers() -> None:
    assert to_decimal(1234.56) == Decimal("1234.56")
    assert to_cents(Decimal("1.005")) == Decimal("1.01")
    with pytest.raises(ValueError, match="non-finite"):
        to_decimal(float("nan"))


def test_ensure_utc_refuses_naive() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        ensure_utc(datetime(2024, 1, 1))


def test_an_order_renamed_by_the_loop_keeps_every_other_field() -> None:
    original = Order(
        "A",
        OrderSide.SELL,
        Decimal(3),
        type=OrderType.STOP_LIMIT,
        limit_price=Decimal(5),
        stop_price=Decimal(6),
        strategy_id="s",
        reason="why",
    )
    renamed = original.with_client_order_id("acct-20240102-000001")
    assert renamed.client_order_id == "acct-20240102-000001"
    for field in fields(Order):  # a field added to Order must be copied too
        if field.name != "client_order_id":
            assert getattr(renamed, field.name) == getattr(original, field.name), field.name
