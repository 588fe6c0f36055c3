"""The bus port: publish to typed streams, consume through groups with ack-after-commit, broadcast.

The contract a consumer relies on (both implementations keep it; the delivery rules live here):

- At least once. The handler gets a batch and the entries are acknowledged ONLY after it returns.
  The handler is where the consumer's PostgreSQL transaction commits: it writes the whole batch in
  one transaction and returns after the commit, or raises and writes nothing. A crash between the
  commit and the acknowledgement hands the same entries out again, so every table a handler
  writes has a unique constraint on the event's `idempotency_key` (or a natural key such as the
  fill id) and the handler skips what it already holds (INSERT ... ON CONFLICT DO NOTHING).
- Pending first. A consumer, when it starts, drains the entries it was handed before and never
  acknowledged (its own pending entries) before it reads new ones.
- Claim. Entries another consumer of the group was handed and left idle longer than
  `claim_idle_ms` (it died, or its handler failed) are claimed and handed out again.
- Dead letters. An entry on its `max_deliveries`-th delivery whose handler fails, or one that is
  found already past it, or one that does not decode, moves to `<stream>.dead` with the reason,
  is acknowledged on its stream, and the alert hook is called.
- A failing batch is retried entry by entry in the same round, so one bad entry does not hold
  back the others; what still fails stays pending and comes back by claim once idle.
- Broadcasts (pub/sub) are fire and forget: a receiver that was away misses them, so the state
  they announce (the kill-switch mode) is also stored and read where it matters.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from quant_bus.streams import Event, UndecodableEntryError, binding, decode, encode

log = logging.getLogger("quant.bus")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One entry handed to a handler: its id on the stream, the event, and how many times the
    group has handed it out so far (1 on the first delivery)."""

    entry_id: str
    event: Event
    deliveries: int


@dataclass(frozen=True, slots=True)
class RawEntry:
    """An entry as the server returns it, before decoding."""

    entry_id: str
    fields: Mapping[str, str]
    deliveries: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An entry moved to `<stream>.dead`: where it came from, why, and its original fields."""

    stream: str
    group: str
    entry_id: str
    deliveries: int
    reason: str
    fields: Mapping[str, str]
    dead_id: str = ""


Handler = Callable[[Sequence[Delivery]], Awaitable[None]]
"""Handles a batch; returns only after its database transaction committed, raises otherwise."""

AlertHook = Callable[[DeadLetter], Awaitable[None]]
"""Called once per dead-lettered entry (the monitoring service raises the alert)."""


@dataclass(frozen=True, slots=True)
class Consumer:
    """One consumer of a group: which stream, its group and its own name, and the delivery
    rules (production: 30 s idle before a claim; tests use a few hundred milliseconds)."""

    stream: str
    group: str
    name: str
    batch: int = 100
    block_ms: int = 1_000
    claim_idle_ms: int = 30_000
    max_deliveries: int = 5
    # a new group reads the stream from its first entry (a replay's consumer, recovery), or
    # only entries added after it was created (a session that starts trading now)
    new_only: bool = False

    def __post_init__(self) -> None:
        binding(self.stream, durable=True)  # an unbound stream raises here, before any read
        if self.batch < 1 or self.max_deliveries < 1 or self.claim_idle_ms < 1:
            raise ValueError("batch, max_deliveries and claim_idle_ms must be at least 1")


@dataclass(slots=True)
class ConsumeResult:
    """What one round did: entries acknowledged after the handler, dead-lettered, left pending."""

    acked: int = 0
    dead_lettered: int = 0
    left_pending: int = 0
    errors: list[str] = field(default_factory=list)


class Subscription(ABC):
    """Receives a broadcast channel's events from the moment it was entered."""

    @abstractmethod
    async def get(self, timeout: float) -> Event | None:
        """The next event, or None when none came within `timeout` seconds."""

    @abstractmethod
    async def close(self) -> None:
        """Stop receiving."""

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while True:
            event = await self.get(timeout=1.0)
            if event is not None:
                yield event


async def _no_alert(_: DeadLetter) -> None:
    return None


class EventBus(ABC):
    """The port. Subclasses supply the server primitives; the delivery rules are shared."""

    unreachable: tuple[type[Exception], ...] = (ConnectionError, TimeoutError)
    """The errors that mean the server cannot be reached (`run` waits and tries again)."""

    def __init__(self, alert: AlertHook | None = None) -> None:
        self._alert = alert or _no_alert
        self._known_groups: set[tuple[str, str]] = set()
        self._drain_from: dict[tuple[str, str, str], str] = {}  # own-pending cursor, until empty
        self._drained: set[tuple[str, str, str]] = set()
        self._claim_from: dict[tuple[str, str, str], str] = {}
        self._claimed_at: dict[tuple[str, str, str], float] = {}

    # --- server primitives -------------------------------------------------------------------

    @abstractmethod
    async def _add(self, stream: str, fields: Mapping[str, str]) -> str: ...

    @abstractmethod
    async def _create_group(self, stream: str, group: str, *, new_only: bool) -> None:
        """Create the group (and the stream) at the stream's start, or at its end when
        `new_only`; a group that exists already keeps its position."""

    @abstractmethod
    async def _read_pending(self, c: Consumer, after: str) -> list[RawEntry]:
        """This consumer's own pending entries after id `after`, with their delivery counts."""

    @abstractmethod
    async def _read_new(self, c: Consumer) -> list[RawEntry]:
        """Entries never handed to the group (waits up to `block_ms` for one)."""

    @abstractmethod
    async def _claim(self, c: Consumer, start: str) -> tuple[str, list[RawEntry]]:
        """Entries idle past `claim_idle_ms` from `start` on, now this consumer's; next start."""

    @abstractmethod
    async def _ack(self, stream: str, group: str, ids: Sequence[str]) -> None: ...

    @abstractmethod
    async def _move_dead(self, c: Consumer, entry: RawEntry, reason: str) -> str:
        """Add the entry to `<stream>.dead` and acknowledge it on its stream, atomically."""

    @abstractmethod
    async def _broadcast(self, channel: str, fields: Mapping[str, str]) -> int: ...

    @abstractmethod
    def subscribe(self, channel: str) -> Subscription:
        """A subscription to a bound broadcast channel (use it as an async context manager)."""

    @abstractmethod
    async def trim(self, stream: str) -> int:
        """Remove entries of `stream` (and its dead letters) older than the retention, by age
        only (MINID), never by count; returns how many went."""

    @abstractmethod
    async def dead_letters(self, stream: str, count: int = 100) -> list[DeadLetter]:
        """The oldest `count` entries of `<stream>.dead`."""

    @abstractmethod
    async def pending(self, stream: str, group: str) -> int:
        """How many entries the group was handed and has not acknowledged."""

    @abstractmethod
    async def close(self) -> None: ...

    # --- the port ------------------------------------------------------------------------------

    async def publish(self, stream: str, event: Event) -> str:
        """Append `event` to a bound stream; returns the entry id."""
        return await self._add(stream, encode(stream, event))

    async def broadcast(self, channel: str, event: Event) -> int:
        """Send `event` on a bound broadcast channel; returns how many subscribers got it."""
        return await self._broadcast(channel, encode(channel, event, durable=False))

    async def join(self, c: Consumer) -> None:
        """Create `c`'s group now if it does not exist (a `new_only` group then holds every
        entry published from this moment, even before its first read)."""
        if (c.stream, c.group) not in self._known_groups:
            await self._create_group(c.stream, c.group, new_only=c.new_only)
            self._known_groups.add((c.stream, c.group))

    async def consume(self, c: Consumer, handler: Handler) -> ConsumeResult:
        """One round for consumer `c`: its own pending entries until none are left, else
        entries claimed from idle consumers, else new entries. Acknowledges after `handler`."""
        key = (c.stream, c.group, c.name)
        await self.join(c)
        if key not in self._drained:
            entries = await self._read_pending(c, self._drain_from.get(key, "0"))
            if entries:
                self._drain_from[key] = entries[-1].entry_id
                return await self._process(c, entries, handler)
            self._drained.add(key)
        now = time.monotonic()
        if now - self._claimed_at.get(key, float("-inf")) >= c.claim_idle_ms / 2_000:
            self._claimed_at[key] = now
            start, claimed = await self._claim(c, self._claim_from.get(key, "0-0"))
            self._claim_from[key] = start
            if claimed:
                return await self._process(c, claimed, handler)
        return await self._process(c, await self._read_new(c), handler)

    async def run(self, c: Consumer, handler: Handler, stop: asyncio.Event) -> None:
        """Consume until `stop` is set. A lost connection is logged and retried; the consumer
        then drains its own pending entries again before it reads new ones."""
        key = (c.stream, c.group, c.name)
        while not stop.is_set():
            try:
                await self.consume(c, handler)
            except self.unreachable as exc:
                log.warning("bus unreachable, retrying: %s (consumer %s)", exc, c.name)
                self._drained.discard(key)
                self._drain_from.pop(key, None)
                self._known_groups.discard((c.stream, c.group))
                await asyncio.sleep(0.5)

    # --- delivery rules -------------------------------------------------------------------------

    async def _process(
        self, c: Consumer, entries: Sequence[RawEntry], handler: Handler
    ) -> ConsumeResult:
        result = ConsumeResult()
        ready = await self._prepare(c, entries, result)
        if not ready:
            return result
        if len(ready) > 1:
            try:
                await handler([d for _, d in ready])
            except Exception as exc:
                result.errors.append(f"batch: {exc!r}")
                log.warning("handler failed on %d entries of %s: %r", len(ready), c.stream, exc)
            else:
                await self._ack(c.stream, c.group, [e.entry_id for e, _ in ready])
                result.acked += len(ready)
                return result
        for entry, delivery in ready:  # one at a time: a bad entry must not hold back the rest
            try:
                await handler([delivery])
            except Exception as exc:
                result.errors.append(f"{entry.entry_id}: {exc!r}")
                if entry.deliveries >= c.max_deliveries:
                    await self._dead(c, entry, f"handler failed: {exc!r}", result)
                else:
                    result.left_pending += 1
            else:
                await self._ack(c.stream, c.group, [entry.entry_id])
                result.acked += 1
        return result

    async def _prepare(
        self, c: Consumer, entries: Sequence[RawEntry], result: ConsumeResult
    ) -> list[tuple[RawEntry, Delivery]]:
        """Decode the entries; dead-letter the undecodable and the over-delivered ones."""
        ready: list[tuple[RawEntry, Delivery]] = []
        gone: list[str] = []
        for entry in entries:
            if not entry.fields:  # trimmed while pending: nothing left to hand out
                gone.append(entry.entry_id)
                continue
            if entry.deliveries > c.max_deliveries:
                reason = f"delivered {entry.deliveries} times without acknowledgement"
                await self._dead(c, entry, reason, result)
                continue
            try:
                event = decode(c.stream, entry.fields)
            except UndecodableEntryError as exc:
                await self._dead(c, entry, str(exc), result)
                continue
            ready.append((entry, Delivery(entry.entry_id, event, entry.deliveries)))
        if gone:
            await self._ack(c.stream, c.group, gone)
        return ready

    async def _dead(self, c: Consumer, entry: RawEntry, reason: str, result: ConsumeResult) -> None:
        dead_id = await self._move_dead(c, entry, reason)
        result.dead_lettered += 1
        log.error(
            "dead-lettered %s %s after %d deliveries: %s",
            *(c.stream, entry.entry_id, entry.deliveries, reason),
        )
        letter = DeadLetter(
            c.stream, c.group, entry.entry_id, entry.deliveries, reason, entry.fields, dead_id
        )
        try:
            await self._alert(letter)
        except Exception:  # the entry is safe in the dead-letter stream; the alert is best effort
            log.exception("alert hook failed for dead letter %s %s", c.stream, entry.entry_id)
