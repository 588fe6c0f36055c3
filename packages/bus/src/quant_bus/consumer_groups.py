"""How far each consumer group trails its stream (XINFO GROUPS), for the lag and pending gauges."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from quant_bus.streams import BINDINGS, dead_letter_stream


@dataclass(frozen=True, slots=True)
class GroupState:
    """One consumer group of one stream: entries not yet delivered to it (`lag`) and entries
    delivered but not acknowledged (`pending`)."""

    stream: str
    group: str
    lag: int
    pending: int


def durable_streams() -> list[str]:
    """Every bound stream with consumer groups, and its dead-letter stream."""
    names = [b.name for b in BINDINGS.values() if b.durable]
    return [*names, *(dead_letter_stream(n) for n in names)]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _lag(entry: dict[str, Any]) -> int:
    lag = entry.get("lag")
    if lag is not None:
        return int(lag)
    # Redis answers nil when it cannot tell (entries deleted or trimmed past the group): the
    # group is then at least as far behind as it has undelivered entries it knows of, unknown
    # here, so the conservative reading is 0 plus a pending count that still shows trouble
    return 0


async def consumer_groups(client: Redis, streams: Iterable[str] | None = None) -> list[GroupState]:
    """XINFO GROUPS of each stream (default: every durable one); a stream that does not exist
    yet has no groups. Redis 7.0 reports `lag`; older servers do not, and read as 0."""
    found: list[GroupState] = []
    for stream in durable_streams() if streams is None else streams:
        try:
            groups: list[dict[str, Any]] = await client.xinfo_groups(stream)
        except ResponseError as exc:
            if "no such key" in str(exc).lower():
                continue
            raise
        for entry in groups:
            found.append(
                GroupState(
                    stream=stream,
                    group=_text(entry["name"]),
                    lag=_lag(entry),
                    pending=int(entry.get("pending", 0)),
                )
            )
    return found
