"""Instruments: tick and lot validation, and rounding that never makes an order more aggressive."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quant_domain import Instrument, OrderSide
from quant_domain.instruments import US_EQUITY_TICK, round_to_lot, round_to_tick

BUY, SELL = OrderSide.BUY, OrderSide.SELL
CENT = Decimal("0.01")


def test_instrument_defaults_to_no_tick_whole_lots_and_shortable() -> None:
    instrument = Instrument("ABC")
    assert instrument.tick_size is None
    assert instrument.lot_size == Decimal(1)
    assert instrument.shortable is True


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tick_size", Decimal(0)),
        ("tick_size", Decimal("-0.01")),
        ("tick_size", Decimal("NaN")),
        ("tick_size", 0.01),
        ("lot_size", Decimal(0)),
        ("lot_size", Decimal("-1")),
        ("lot_size", Decimal("Infinity")),
        ("lot_size", 1),
    ],
)
def test_instrument_refuses_a_tick_or_lot_that_is_not_a_positive_decimal_naming_it(
    field: str, value: object
) -> None:
    with pytest.raises(ValueError, match=f"ABC: {field} must be a Decimal > 0"):
        Instrument("ABC", **{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("price", "side", "kind", "expected"),
    [
        ("101.237", BUY, "limit", "101.23"),  # pay no more than asked
        ("101.231", SELL, "limit", "101.24"),  # take no less than asked
        ("101.231", BUY, "stop", "101.24"),  # trigger no earlier (higher) than asked
        ("101.239", SELL, "stop", "101.23"),  # trigger no earlier (lower) than asked
        ("101.23", BUY, "limit", "101.23"),
        ("101.23", SELL, "stop", "101.23"),
    ],
)
def test_round_to_tick_moves_limits_away_from_the_market_and_stops_away_from_triggering(
    price: str, side: OrderSide, kind: str, expected: str
) -> None:
    assert round_to_tick(Decimal(price), CENT, side, kind) == Decimal(expected)  # type: ignore[arg-type]


def test_round_to_tick_works_on_ticks_that_are_not_powers_of_ten() -> None:
    quarter = Decimal("0.25")
    assert round_to_tick(Decimal("100.10"), quarter, BUY, "limit") == Decimal("100.00")
    assert round_to_tick(Decimal("100.10"), quarter, SELL, "limit") == Decimal("100.25")
    assert round_to_tick(Decimal("0.11"), Decimal("0.05"), BUY, "stop") == Decimal("0.15")


def test_round_to_tick_returns_the_price_unchanged_without_a_tick() -> None:
    price = Decimal("1.234567")
    assert round_to_tick(price, None, BUY, "limit") is price


def test_round_to_tick_refuses_a_price_that_would_round_to_zero() -> None:
    with pytest.raises(ValueError, match="rounds to 0"):
        round_to_tick(Decimal("0.004"), CENT, BUY, "limit")
    assert round_to_tick(Decimal("0.004"), CENT, SELL, "limit") == CENT


@pytest.mark.parametrize("price", [Decimal(0), Decimal("-1"), Decimal("NaN")])
def test_round_to_tick_refuses_a_price_that_is_not_positive(price: Decimal) -> None:
    with pytest.raises(ValueError, match="limit price must be a Decimal > 0"):
        round_to_tick(price, CENT, BUY, "limit")


@given(
    price=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100_000), places=4),
    tick=st.sampled_from([Decimal("0.01"), Decimal("0.05"), Decimal("0.25"), Decimal("0.0001")]),
    side=st.sampled_from(list(OrderSide)),
    kind=st.sampled_from(["limit", "stop"]),
)
def test_rounded_price_is_on_the_tick_within_one_tick_and_never_more_aggressive(
    price: Decimal, tick: Decimal, side: OrderSide, kind: str
) -> None:
    try:
        rounded = round_to_tick(price, tick, side, kind)  # type: ignore[arg-type]
    except ValueError:
        assert price < tick  # only a sub-tick buy limit or sell stop has nowhere to go
        return
    assert rounded % tick == 0
    assert abs(rounded - price) < tick
    passive_is_lower = (side is BUY) == (kind == "limit")
    assert rounded <= price if passive_is_lower else rounded >= price


def test_instrument_rounds_prices_to_its_own_tick() -> None:
    instrument = Instrument("ABC", tick_size=US_EQUITY_TICK)
    assert instrument.round_price(Decimal("10.019"), BUY, "limit") == Decimal("10.01")
    assert Instrument("SYN").round_price(Decimal("10.019"), BUY, "limit") == Decimal("10.019")


@pytest.mark.parametrize(
    ("quantity", "lot", "expected"),
    [
        ("137", "100", "100"),
        ("99", "100", "0"),
        ("-137", "100", "-100"),
        ("-0.5", "1", "0"),
        ("12.345678", "0.001", "12.345"),
        ("200", "100", "200"),
    ],
)
def test_round_to_lot_rounds_toward_zero_so_never_more_is_traded(
    quantity: str, lot: str, expected: str
) -> None:
    rounded = round_to_lot(Decimal(quantity), Decimal(lot))
    assert rounded == Decimal(expected)
    assert not rounded.is_signed() or rounded < 0  # no "-0"


def test_instrument_rounds_quantities_down_to_its_lot() -> None:
    assert Instrument("ABC", lot_size=Decimal(100)).round_quantity(Decimal(250)) == Decimal(200)


def test_round_to_lot_refuses_a_bad_lot_or_quantity() -> None:
    with pytest.raises(ValueError, match="lot must be a Decimal > 0"):
        round_to_lot(Decimal(5), Decimal(0))
    with pytest.raises(ValueError, match="quantity must be a finite Decimal"):
        round_to_lot(Decimal("NaN"), Decimal(1))
