"""streams.py: each name carries one event type; anything else raises before it reaches Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from quant_bus import (
    BARS_CLOSED,
    BINDINGS,
    FILLS,
    KILL_SWITCH,
    ORDER_EVENTS,
    BarClosedEvent,
    EventTypeError,
    FillEvent,
    KillSwitchChanged,
    OrderEventMessage,
    UndecodableEntryError,
    UnknownStreamError,
    dead_letter_stream,
)
from quant_bus.streams import decode, encode
from quant_domain import KillSwitchMode, OrderSide, OrderStatus

T = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


def bar(key: str = "bar:sample:SPY:1d:2026-12-07") -> BarClosedEvent:
    return BarClosedEvent(
        idempotency_key=key,
        symbol="SPY",
        timeframe="1d",
        timestamp=T,
        open=600.0,
        high=605.5,
        low=598.25,
        close=603.0,
        volume=1.2e6,
        source="sample",
    )


def fill() -> FillEvent:
    return FillEvent(
        idempotency_key="fill:f-1",
        fill_id="f-1",
        client_order_id="momentum_v1-1",
        symbol="SPY",
        side=OrderSide.BUY,
        quantity=Decimal("10"),
        price=Decimal("603.01"),
        commission=Decimal("1.00"),
        timestamp=T,
    )


def test_publishing_to_a_misspelt_stream_raises_naming_the_bound_ones() -> None:
    with pytest.raises(
        UnknownStreamError, match=r"'bar.closed' is not a bound stream.*bars\.closed"
    ):
        encode("bar.closed", bar())


def test_decoding_from_a_misspelt_stream_raises() -> None:
    fields = encode(BARS_CLOSED, bar())
    with pytest.raises(UnknownStreamError):
        decode("bars-closed", fields)


def test_an_event_of_another_type_than_its_stream_carries_raises() -> None:
    with pytest.raises(EventTypeError, match="'fills' carries FillEvent, not BarClosedEvent"):
        encode(FILLS, bar())


def test_a_broadcast_channel_is_not_a_stream_and_a_stream_is_not_a_channel() -> None:
    change = KillSwitchChanged(
        idempotency_key="ks:1",
        mode=KillSwitchMode.HALT_ENTRIES,
        previous=KillSwitchMode.ACTIVE,
        changed_by="admin",
        timestamp=T,
    )
    with pytest.raises(UnknownStreamError, match="not a bound stream"):
        encode(KILL_SWITCH, change)
    with pytest.raises(UnknownStreamError, match="not a bound broadcast channel"):
        encode(FILLS, fill(), durable=False)
    assert encode(KILL_SWITCH, change, durable=False)["type"] == "KillSwitchChanged"


def test_every_event_round_trips_through_its_entry_fields_unchanged() -> None:
    order = OrderEventMessage(
        idempotency_key="order:momentum_v1-1:rejected",
        client_order_id="momentum_v1-1",
        strategy_id="momentum_v1",
        status=OrderStatus.REJECTED,
        reason="max_position_pct",
        code="RISK",
        timestamp=T,
    )
    for stream, event in ((BARS_CLOSED, bar()), (FILLS, fill()), (ORDER_EVENTS, order)):
        fields = encode(stream, event)
        assert fields["key"] == event.idempotency_key
        assert fields["v"] == "1"
        assert decode(stream, fields) == event


def test_a_fill_carries_its_money_as_decimal_strings_to_the_cent() -> None:
    fields = encode(FILLS, fill())
    assert '"price":"603.01"' in fields["data"]
    assert decode(FILLS, fields).price == Decimal("603.01")  # type: ignore[attr-defined]


def test_an_entry_of_a_newer_schema_version_is_refused_on_decode() -> None:
    fields = encode(BARS_CLOSED, bar())
    fields["data"] = fields["data"].replace('"schema_version":1', '"schema_version":2')
    with pytest.raises(UndecodableEntryError, match="schema_version"):
        decode(BARS_CLOSED, fields)


def test_an_entry_whose_type_field_is_another_event_is_refused_on_decode() -> None:
    fields = encode(BARS_CLOSED, bar())
    with pytest.raises(UndecodableEntryError, match="has type 'BarClosedEvent'"):
        decode(FILLS, fields)


def test_an_event_without_an_idempotency_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="idempotency_key"):
        bar(key="")


def test_timestamps_must_be_utc() -> None:
    with pytest.raises(ValidationError, match="UTC"):
        BarClosedEvent.model_validate(
            {**bar().model_dump(), "timestamp": T.astimezone(timezone(timedelta(hours=-5)))}
        )
    with pytest.raises(ValidationError, match="timezone"):
        BarClosedEvent.model_validate({**bar().model_dump(), "timestamp": T.replace(tzinfo=None)})


def test_every_stream_has_a_dead_letter_stream_beside_it() -> None:
    assert dead_letter_stream(FILLS) == "fills.dead"
    with pytest.raises(UnknownStreamError):
        dead_letter_stream("fill")


def test_the_bindings_name_six_streams_and_channels_each_with_its_own_type() -> None:
    assert {b.name for b in BINDINGS.values()} == {
        "bars.closed",
        "data.feed_health",
        "orders.events",
        "fills",
        "risk.kill_switch",
        "risk.mode",
    }
    assert len({b.event_type for b in BINDINGS.values()}) == len(BINDINGS)
