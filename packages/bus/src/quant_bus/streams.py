"""Every stream and broadcast channel of the bus, bound to the one event type it carries.

A name that is not bound here, or an event of another type than its stream's, raises at once on
publish and on consume: a typo cannot send messages where nobody reads them. Every event carries an
`idempotency_key` naming the fact it reports (the same fact published twice carries the same key),
so a consumer that is handed an entry again after a crash skips it through a unique constraint
on the key in its own database. `schema_version` is checked on decode: an entry written by a newer
producer is refused (and dead-lettered), never half-read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from quant_domain import KillSwitchMode, OrderSide, OrderStatus, QuantError


class BusError(QuantError):
    """The bus was asked something it cannot do (an unbound name, a wrong event type)."""


class UnknownStreamError(BusError):
    """A stream or channel name that streams.py does not bind."""


class EventTypeError(BusError):
    """An event of another type than the one its stream is bound to."""


class UndecodableEntryError(BusError):
    """An entry that does not decode to its stream's event type (schema, version or JSON)."""


def _utc(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        raise ValueError("must be a UTC timestamp")
    return value


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
"""A timezone-aware datetime at UTC offset zero."""


class Event(BaseModel):
    """Base of every bus event: immutable, no unknown fields, a key and a schema version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    idempotency_key: str = Field(min_length=1, max_length=200)


class BarClosedEvent(Event):
    """A bar is complete; key e.g. `bar:<source>:<symbol>:<timeframe>:<timestamp>`."""

    symbol: str = Field(min_length=1)
    timeframe: str = Field(min_length=1)
    timestamp: UtcDatetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    source: str = Field(min_length=1)
    bars_in_step: int | None = Field(
        default=None,
        ge=1,
        description=(
            "how many bars close at this timestamp in this publication, when the publisher knows"
            " (a replay does): a consumer has the whole step once it holds that many"
        ),
    )


class OrderEventMessage(Event):
    """An order changed state (`reason`/`code` say why for rejections and cancels)."""

    client_order_id: str = Field(min_length=1)
    strategy_id: str = Field(min_length=1)
    status: OrderStatus
    reason: str = ""
    code: str = ""
    timestamp: UtcDatetime


class FillEvent(Event):
    """One execution; key `fill:<fill_id>`. Money is Decimal, carried as strings in JSON."""

    fill_id: str = Field(min_length=1)
    client_order_id: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    side: OrderSide
    quantity: Decimal = Field(gt=0)
    price: Decimal = Field(gt=0)
    commission: Decimal = Field(ge=0)
    timestamp: UtcDatetime


class KillSwitchChanged(Event):
    """The account's kill-switch mode changed (set by a person through the API or CLI)."""

    mode: KillSwitchMode
    previous: KillSwitchMode
    changed_by: str = Field(min_length=1)
    reason: str = ""
    timestamp: UtcDatetime


class RiskModeChanged(Event):
    """A breaker changed a strategy's mode (`strategy_id` None: the whole account)."""

    strategy_id: str | None = None
    mode: KillSwitchMode
    breaker: str = Field(min_length=1)
    reason: str = ""
    timestamp: UtcDatetime


class FeedHealthChanged(Event):
    """A live feed's symbol changed health (ok, warn: reconnecting, block: no new entries);
    key `feed:<source>:<symbol>:<state>:<since>`. The state of record is the Redis hash
    quant_bus.feed_health keeps; this broadcast only says it changed (ADR 0037)."""

    source: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    state: Literal["ok", "warn", "block"]
    previous: Literal["ok", "warn", "block"]
    since: UtcDatetime
    last_bar_at: UtcDatetime | None = None
    timestamp: UtcDatetime


@dataclass(frozen=True, slots=True)
class Binding:
    """A name and the event type it carries; `durable` streams use consumer groups, the others
    are fire-and-forget pub/sub broadcasts (receivers must also read the state they stand for)."""

    name: str
    event_type: type[Event]
    durable: bool


BARS_CLOSED = "bars.closed"
ORDER_EVENTS = "orders.events"
FILLS = "fills"
KILL_SWITCH = "risk.kill_switch"
RISK_MODE = "risk.mode"
FEED_HEALTH = "data.feed_health"

BINDINGS: Mapping[str, Binding] = {
    b.name: b
    for b in (
        Binding(BARS_CLOSED, BarClosedEvent, durable=True),
        Binding(ORDER_EVENTS, OrderEventMessage, durable=True),
        Binding(FILLS, FillEvent, durable=True),
        Binding(KILL_SWITCH, KillSwitchChanged, durable=False),
        Binding(RISK_MODE, RiskModeChanged, durable=False),
        Binding(FEED_HEALTH, FeedHealthChanged, durable=False),
    )
}

DEAD_LETTER_SUFFIX = ".dead"


def binding(name: str, *, durable: bool) -> Binding:
    """The binding of a stream (`durable`) or broadcast channel; raises on any other name."""
    bound = BINDINGS.get(name)
    kind = "stream" if durable else "broadcast channel"
    if bound is None or bound.durable != durable:
        known = sorted(b.name for b in BINDINGS.values() if b.durable == durable)
        raise UnknownStreamError(
            f"{name!r} is not a bound {kind} (quant_bus.streams binds {', '.join(known)})"
        )
    return bound


def dead_letter_stream(stream: str) -> str:
    """Where entries of `stream` go after too many deliveries: `<stream>.dead`."""
    return binding(stream, durable=True).name + DEAD_LETTER_SUFFIX


def _checked(name: str, event: Event, *, durable: bool) -> Binding:
    bound = binding(name, durable=durable)
    if type(event) is not bound.event_type:
        raise EventTypeError(
            f"{name!r} carries {bound.event_type.__name__}, not {type(event).__name__}"
        )
    return bound


def encode(name: str, event: Event, *, durable: bool = True) -> dict[str, str]:
    """The entry fields for `event` on `name`: its type, version, key and JSON body."""
    bound = _checked(name, event, durable=durable)
    return {
        "type": bound.event_type.__name__,
        "v": str(event.schema_version),
        "key": event.idempotency_key,
        "data": event.model_dump_json(),
    }


def decode(name: str, fields: Mapping[str, str], *, durable: bool = True) -> Event:
    """The event an entry of `name` carries; UndecodableEntryError when it is not one."""
    bound = binding(name, durable=durable)
    kind = fields.get("type")
    if kind != bound.event_type.__name__:
        raise UndecodableEntryError(
            f"{name!r} entry has type {kind!r}, the stream carries {bound.event_type.__name__}"
        )
    try:
        return bound.event_type.model_validate_json(fields.get("data", ""))
    except (ValidationError, json.JSONDecodeError) as exc:
        raise UndecodableEntryError(f"{name!r} entry does not decode: {exc}") from exc
