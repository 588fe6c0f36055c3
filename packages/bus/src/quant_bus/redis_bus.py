"""The bus on Redis 7 / Valkey Streams through redis-py's asyncio client (Redis 7.0 commands only).

Groups start at the beginning of their stream (XGROUP CREATE ... 0 MKSTREAM; BUSYGROUP means it
exists). Delivery counts come from XPENDING; claims from XAUTOCLAIM; a dead letter is XADD to
`<stream>.dead` plus XACK in one MULTI. Streams are trimmed by age (MINID = now - retention) on
every XADD (approximate, cheap) and exactly by `trim`; never by length, which drops entries a
lagging group has not read yet.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from quant_bus.base import AlertHook, Consumer, DeadLetter, EventBus, RawEntry, Subscription
from quant_bus.streams import Event, binding, dead_letter_stream, decode

RETENTION = timedelta(days=7)
"""How long a critical stream keeps its entries, read or not."""

_DEAD_FIELDS = ("source_id", "group", "deliveries", "reason")


def _body(fields: Mapping[str, str]) -> dict[Any, Any]:
    """Entry fields as redis-py's xadd types them."""
    return dict(fields)


def _entry_ids(entries: Sequence[tuple[str, Mapping[str, str] | None]]) -> list[str]:
    return [entry_id for entry_id, _ in entries]


class RedisBus(EventBus):
    """The bus on one Redis server. Build it with `RedisBus.from_url(url)`; close it after use."""

    unreachable = (ConnectionError, TimeoutError, RedisConnectionError, RedisTimeoutError)

    def __init__(
        self,
        client: Redis,
        *,
        retention: timedelta = RETENTION,
        alert: AlertHook | None = None,
    ) -> None:
        super().__init__(alert)
        if retention <= timedelta(0):
            raise ValueError("retention must be positive")
        self._client = client
        self._retention_ms = int(retention.total_seconds() * 1_000)

    @classmethod
    def from_url(
        cls, url: str, *, retention: timedelta = RETENTION, alert: AlertHook | None = None
    ) -> RedisBus:
        return cls(Redis.from_url(url, decode_responses=True), retention=retention, alert=alert)

    def _min_id(self) -> str:
        return f"{int(time.time() * 1_000) - self._retention_ms}-0"

    async def _add(self, stream: str, fields: Mapping[str, str]) -> str:
        return str(
            await self._client.xadd(stream, _body(fields), minid=self._min_id(), approximate=True)
        )

    async def _create_group(self, stream: str, group: str, *, new_only: bool) -> None:
        try:
            await self._client.xgroup_create(
                stream, group, id="$" if new_only else "0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _counts(self, c: Consumer, entries: list[Any]) -> list[RawEntry]:
        """The entries with their delivery counts, one XPENDING per id in one round trip (a
        range could cut off: this consumer may hold other pending entries between them)."""
        if not entries:
            return []
        ids = _entry_ids(entries)
        async with self._client.pipeline(transaction=False) as pipe:
            for entry_id in ids:
                pipe.xpending_range(c.stream, c.group, min=entry_id, max=entry_id, count=1)
            replies: Any = await pipe.execute()
        counts = {
            str(row["message_id"]): int(row["times_delivered"]) for rows in replies for row in rows
        }
        return [
            RawEntry(entry_id, fields or {}, counts.get(entry_id, 1))
            for entry_id, fields in entries
        ]

    async def _read_pending(self, c: Consumer, after: str) -> list[RawEntry]:
        reply: Any = await self._client.xreadgroup(
            c.group, c.name, {c.stream: after}, count=c.batch
        )
        entries = reply[0][1] if reply else []
        # an id after `after` may no longer be pending (acked meanwhile): XREADGROUP skips those
        return await self._counts(c, entries)

    async def _read_new(self, c: Consumer) -> list[RawEntry]:
        reply: Any = await self._client.xreadgroup(
            c.group, c.name, {c.stream: ">"}, count=c.batch, block=c.block_ms
        )
        entries = reply[0][1] if reply else []
        return [RawEntry(entry_id, fields or {}, 1) for entry_id, fields in entries]

    async def _claim(self, c: Consumer, start: str) -> tuple[str, list[RawEntry]]:
        reply: Any = await self._client.xautoclaim(
            c.stream, c.group, c.name, c.claim_idle_ms, start_id=start, count=c.batch
        )
        next_start, entries = str(reply[0]), reply[1]
        # entries trimmed while pending come back as deleted ids; Redis 7 drops them from the PEL
        return next_start, await self._counts(c, [e for e in entries if e[0] is not None])

    async def _ack(self, stream: str, group: str, ids: Sequence[str]) -> None:
        if ids:
            await self._client.xack(stream, group, *ids)

    async def _move_dead(self, c: Consumer, entry: RawEntry, reason: str) -> str:
        fields: dict[Any, Any] = {
            **{k: v for k, v in entry.fields.items() if k not in _DEAD_FIELDS},
            "source_id": entry.entry_id,
            "group": c.group,
            "deliveries": str(entry.deliveries),
            "reason": reason[:2_000],
        }
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.xadd(dead_letter_stream(c.stream), fields, minid=self._min_id(), approximate=True)
            pipe.xack(c.stream, c.group, entry.entry_id)
            dead_id, _ = await pipe.execute()
        return str(dead_id)

    async def _broadcast(self, channel: str, fields: Mapping[str, str]) -> int:
        return int(await self._client.publish(channel, fields["data"]))

    def subscribe(self, channel: str) -> RedisSubscription:
        return RedisSubscription(self._client.pubsub(), channel)

    async def trim(self, stream: str) -> int:
        binding(stream, durable=True)
        removed = 0
        for name in (stream, dead_letter_stream(stream)):
            removed += int(await self._client.xtrim(name, minid=self._min_id(), approximate=False))
        return removed

    async def dead_letters(self, stream: str, count: int = 100) -> list[DeadLetter]:
        rows: Any = await self._client.xrange(dead_letter_stream(stream), count=count)
        return [
            DeadLetter(
                stream=stream,
                group=fields["group"],
                entry_id=fields["source_id"],
                deliveries=int(fields["deliveries"]),
                reason=fields["reason"],
                fields={k: v for k, v in fields.items() if k not in _DEAD_FIELDS},
                dead_id=dead_id,
            )
            for dead_id, fields in rows
        ]

    async def pending(self, stream: str, group: str) -> int:
        binding(stream, durable=True)
        summary: Any = await self._client.xpending(stream, group)
        return int(summary["pending"])

    async def close(self) -> None:
        await self._client.aclose()


class RedisSubscription(Subscription):
    """A pub/sub subscription; events arrive from the moment `async with` entered it."""

    def __init__(self, pubsub: PubSub, channel: str) -> None:
        binding(channel, durable=False)
        self._pubsub = pubsub
        self._channel = channel
        self._subscribed = False

    async def __aenter__(self) -> RedisSubscription:
        await self._pubsub.subscribe(self._channel)
        self._subscribed = True
        return self

    async def get(self, timeout: float) -> Event | None:
        if not self._subscribed:
            await self.__aenter__()
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if message is not None and message["type"] == "message":
                kind = binding(self._channel, durable=False).event_type.__name__
                return decode(self._channel, {"type": kind, "data": message["data"]}, durable=False)
            if message is None:
                await asyncio.sleep(0)
        return None

    async def close(self) -> None:
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
