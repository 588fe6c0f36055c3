"""An in-memory bus with the same port and delivery rules, for unit tests of code that uses a bus.

It keeps streams, groups, pending entries with delivery counts and idle times, dead letters and
broadcast queues in this process, so a test of a consumer's handler needs no server. It is a fake
of our own port, not of Redis: the bus itself is tested against a real server (embedded Valkey)
in tests/integration/test_bus.py, and so is anything whose correctness depends on Redis.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from quant_bus.base import AlertHook, Consumer, DeadLetter, EventBus, RawEntry, Subscription
from quant_bus.streams import Event, binding, dead_letter_stream, decode

_DEAD_FIELDS = ("source_id", "group", "deliveries", "reason")


@dataclass
class _Pending:
    consumer: str
    deliveries: int
    delivered_at: float


@dataclass
class _Group:
    last_id: tuple[int, int] = (0, 0)
    pending: dict[str, _Pending] = field(default_factory=dict)


def _parse(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class MemoryServer:
    """What a Redis server would hold: streams, groups and subscribers. Two MemoryBus objects on
    one server behave as two processes on one Redis (one may "restart" while the other runs)."""

    def __init__(self) -> None:
        self.streams: dict[str, dict[str, dict[str, str]]] = {}
        self.groups: dict[tuple[str, str], _Group] = {}
        self.subscribers: dict[str, list[asyncio.Queue[Mapping[str, str]]]] = {}
        self.now_ms: Callable[[], int] = lambda: int(time.time() * 1_000)
        """Milliseconds since the epoch for new ids and trimming; tests may replace it."""
        self._seq = itertools.count()
        self._last_ms = 0

    def new_id(self) -> str:
        ms = max(self.now_ms(), self._last_ms)
        if ms != self._last_ms:
            self._seq = itertools.count()
            self._last_ms = ms
        return f"{ms}-{next(self._seq)}"


class MemoryBus(EventBus):
    """The bus in this process (ids are `<ms>-<seq>` as on Redis)."""

    def __init__(
        self,
        server: MemoryServer | None = None,
        *,
        retention: timedelta = timedelta(days=7),
        alert: AlertHook | None = None,
    ) -> None:
        super().__init__(alert)
        self.server = server or MemoryServer()
        self._retention_ms = int(retention.total_seconds() * 1_000)
        self._streams = self.server.streams
        self._groups = self.server.groups
        self._subscribers = self.server.subscribers

    async def _add(self, stream: str, fields: Mapping[str, str]) -> str:
        entry_id = self.server.new_id()
        self._streams.setdefault(stream, {})[entry_id] = dict(fields)
        return entry_id

    async def _create_group(self, stream: str, group: str, *, new_only: bool) -> None:
        entries = self._streams.setdefault(stream, {})
        if (stream, group) not in self._groups:
            start = max((_parse(i) for i in entries), default=(0, 0)) if new_only else (0, 0)
            self._groups[(stream, group)] = _Group(last_id=start)

    def _group(self, c: Consumer) -> _Group:
        return self._groups[(c.stream, c.group)]

    def _deliver(self, c: Consumer, entry_id: str) -> RawEntry:
        state = self._group(c).pending.setdefault(entry_id, _Pending(c.name, 0, 0.0))
        state.consumer = c.name
        state.deliveries += 1
        state.delivered_at = time.monotonic()
        fields = self._streams[c.stream].get(entry_id, {})
        return RawEntry(entry_id, fields, state.deliveries)

    async def _read_pending(self, c: Consumer, after: str) -> list[RawEntry]:
        mine = sorted(
            (i for i, p in self._group(c).pending.items() if p.consumer == c.name),
            key=_parse,
        )
        chosen = [i for i in mine if _parse(i) > _parse(after)][: c.batch]
        return [self._deliver(c, i) for i in chosen]

    async def _read_new(self, c: Consumer) -> list[RawEntry]:
        group = self._group(c)
        deadline = time.monotonic() + c.block_ms / 1_000
        while True:
            fresh = sorted(
                (i for i in self._streams[c.stream] if _parse(i) > group.last_id), key=_parse
            )[: c.batch]
            if fresh or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.005)
        if fresh:
            group.last_id = _parse(fresh[-1])
        return [self._deliver(c, i) for i in fresh]

    async def _claim(self, c: Consumer, start: str) -> tuple[str, list[RawEntry]]:
        group = self._group(c)
        idle_before = time.monotonic() - c.claim_idle_ms / 1_000
        due = sorted(
            (
                i
                for i, p in group.pending.items()
                if _parse(i) >= _parse(start) and p.delivered_at <= idle_before
            ),
            key=_parse,
        )
        taken = due[: c.batch]
        for entry_id in [i for i in taken if i not in self._streams[c.stream]]:
            del group.pending[entry_id]  # trimmed while pending, as Redis 7 does
        taken = [i for i in taken if i in group.pending]
        next_start = due[c.batch] if len(due) > c.batch else "0-0"
        return next_start, [self._deliver(c, i) for i in taken]

    async def _ack(self, stream: str, group: str, ids: Sequence[str]) -> None:
        pending = self._groups[(stream, group)].pending
        for entry_id in ids:
            pending.pop(entry_id, None)

    async def _move_dead(self, c: Consumer, entry: RawEntry, reason: str) -> str:
        fields = {
            **{k: v for k, v in entry.fields.items() if k not in _DEAD_FIELDS},
            "source_id": entry.entry_id,
            "group": c.group,
            "deliveries": str(entry.deliveries),
            "reason": reason,
        }
        dead_id = await self._add(dead_letter_stream(c.stream), fields)
        await self._ack(c.stream, c.group, [entry.entry_id])
        return dead_id

    async def _broadcast(self, channel: str, fields: Mapping[str, str]) -> int:
        queues = self._subscribers.get(channel, [])
        for queue in queues:
            queue.put_nowait(fields)
        return len(queues)

    def subscribe(self, channel: str) -> MemorySubscription:
        binding(channel, durable=False)
        queue: asyncio.Queue[Mapping[str, str]] = asyncio.Queue()
        self._subscribers.setdefault(channel, []).append(queue)
        return MemorySubscription(self, channel, queue)

    def _unsubscribe(self, channel: str, queue: asyncio.Queue[Mapping[str, str]]) -> None:
        self._subscribers[channel].remove(queue)

    async def trim(self, stream: str) -> int:
        binding(stream, durable=True)
        floor = (self.server.now_ms() - self._retention_ms, 0)
        removed = 0
        for name in (stream, dead_letter_stream(stream)):
            entries = self._streams.get(name, {})
            for entry_id in [i for i in entries if _parse(i) < floor]:
                del entries[entry_id]
                removed += 1
        return removed

    async def dead_letters(self, stream: str, count: int = 100) -> list[DeadLetter]:
        rows = list(self._streams.get(dead_letter_stream(stream), {}).items())[:count]
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
        return len(self._groups[(stream, group)].pending)

    def entries(self, stream: str) -> list[str]:
        """The ids still on `stream` (a test's view of what trimming left)."""
        return list(self._streams.get(stream, {}))

    async def close(self) -> None:
        self._subscribers.clear()


class MemorySubscription(Subscription):
    def __init__(
        self, bus: MemoryBus, channel: str, queue: asyncio.Queue[Mapping[str, str]]
    ) -> None:
        self._bus = bus
        self._channel = channel
        self._queue = queue
        self._open = True

    async def get(self, timeout: float) -> Event | None:
        try:
            fields = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        return decode(self._channel, fields, durable=False)

    async def close(self) -> None:
        if self._open:
            self._open = False
            self._bus._unsubscribe(self._channel, self._queue)
