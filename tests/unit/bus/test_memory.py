"""MemoryBus: the in-memory fake keeps the port's delivery rules, so other code can test on it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from quant_bus import (
    BARS_CLOSED,
    KILL_SWITCH,
    BarClosedEvent,
    Consumer,
    DeadLetter,
    Delivery,
    EventTypeError,
    KillSwitchChanged,
    MemoryBus,
    UnknownStreamError,
)
from quant_domain import KillSwitchMode

T = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
R = TypeVar("R")


def bar(n: int) -> BarClosedEvent:
    return BarClosedEvent(
        idempotency_key=f"bar:test:SPY:1d:{n}",
        symbol="SPY",
        timeframe="1d",
        timestamp=T + timedelta(days=n),
        open=100.0 + n,
        high=101.0 + n,
        low=99.0 + n,
        close=100.5 + n,
        volume=1_000.0,
        source="test",
    )


def consumer(name: str = "a", **rules: int) -> Consumer:
    return Consumer(BARS_CLOSED, "execution", name, block_ms=10, **rules)


class Recorder:
    """A handler that keeps the keys it committed and fails while `failing` holds a key."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.committed: list[str] = []
        self.calls = 0
        self.failing = failing or set()

    async def __call__(self, batch: Sequence[Delivery]) -> None:
        self.calls += 1
        keys = [d.event.idempotency_key for d in batch]
        if self.failing & set(keys):
            raise RuntimeError("database refused the batch")
        self.committed.extend(keys)


def run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


def test_published_events_reach_the_handler_in_order_and_are_acknowledged() -> None:
    async def scenario() -> tuple[list[str], int, int]:
        bus = MemoryBus()
        c = consumer()
        record = Recorder()
        await bus.consume(c, record)  # creates the group at the start of the stream
        for n in range(3):
            await bus.publish(BARS_CLOSED, bar(n))
        result = await bus.consume(c, record)
        return record.committed, result.acked, await bus.pending(BARS_CLOSED, "execution")

    committed, acked, pending = run(scenario())
    assert committed == [f"bar:test:SPY:1d:{n}" for n in range(3)]
    assert (acked, pending) == (3, 0)


def test_a_handler_that_raises_leaves_its_entry_pending_and_the_others_acknowledged() -> None:
    async def scenario() -> tuple[list[str], int, list[str]]:
        bus = MemoryBus()
        record = Recorder(failing={"bar:test:SPY:1d:1"})
        for n in range(3):
            await bus.publish(BARS_CLOSED, bar(n))
        result = await bus.consume(consumer(), record)
        return record.committed, await bus.pending(BARS_CLOSED, "execution"), result.errors

    committed, pending, errors = run(scenario())
    assert committed == ["bar:test:SPY:1d:0", "bar:test:SPY:1d:2"]
    assert pending == 1
    assert errors[0].startswith("batch: RuntimeError")


def test_an_entry_failing_on_its_fifth_delivery_goes_to_the_dead_letters_and_alerts() -> None:
    alerts: list[DeadLetter] = []

    async def alert(letter: DeadLetter) -> None:
        alerts.append(letter)

    async def scenario() -> tuple[list[int], int, list[DeadLetter]]:
        bus = MemoryBus(alert=alert)
        await bus.publish(BARS_CLOSED, bar(0))
        seen: list[int] = []

        async def always_fails(batch: Sequence[Delivery]) -> None:
            seen.extend(d.deliveries for d in batch)
            raise RuntimeError("poison")

        c = consumer(claim_idle_ms=1)
        for _ in range(8):
            await asyncio.sleep(0.005)
            await bus.consume(c, always_fails)
        return (
            seen,
            await bus.pending(BARS_CLOSED, "execution"),
            await bus.dead_letters(BARS_CLOSED),
        )

    seen, pending, dead = run(scenario())
    assert seen == [1, 2, 3, 4, 5]
    assert pending == 0
    assert len(dead) == 1
    assert dead[0].deliveries == 5
    assert "poison" in dead[0].reason
    assert alerts == dead


def test_a_restarted_consumer_gets_its_own_pending_entries_before_new_ones() -> None:
    async def scenario() -> list[str]:
        bus = MemoryBus()
        first = Recorder(failing={"bar:test:SPY:1d:0", "bar:test:SPY:1d:1"})
        await bus.publish(BARS_CLOSED, bar(0))
        await bus.publish(BARS_CLOSED, bar(1))
        await bus.consume(consumer(), first)  # both left pending
        await bus.publish(BARS_CLOSED, bar(2))
        restarted = MemoryBus(bus.server)  # the same consumer name in a new process
        again = Recorder()
        await restarted.consume(consumer(), again)
        await restarted.consume(consumer(), again)
        return again.committed

    assert run(scenario()) == ["bar:test:SPY:1d:0", "bar:test:SPY:1d:1", "bar:test:SPY:1d:2"]


def test_trimming_by_age_keeps_every_entry_newer_than_the_retention() -> None:
    async def scenario() -> tuple[int, list[str]]:
        bus = MemoryBus(retention=timedelta(seconds=60))
        clock = [1_000_000]
        bus.server.now_ms = lambda: clock[0]
        old = [await bus.publish(BARS_CLOSED, bar(n)) for n in range(3)]
        clock[0] += 61_000
        new = [await bus.publish(BARS_CLOSED, bar(n)) for n in range(3, 5)]
        removed = await bus.trim(BARS_CLOSED)
        assert all(i not in bus.entries(BARS_CLOSED) for i in old)
        return removed, [i for i in new if i in bus.entries(BARS_CLOSED)]

    removed, kept = run(scenario())
    assert removed == 3
    assert len(kept) == 2


def test_a_broadcast_reaches_every_subscriber_as_its_typed_event() -> None:
    change = KillSwitchChanged(
        idempotency_key="ks:1",
        mode=KillSwitchMode.HALT_ENTRIES,
        previous=KillSwitchMode.ACTIVE,
        changed_by="admin",
        timestamp=T,
    )

    async def scenario() -> tuple[int, object, object]:
        bus = MemoryBus()
        async with bus.subscribe(KILL_SWITCH) as one, bus.subscribe(KILL_SWITCH) as two:
            sent = await bus.broadcast(KILL_SWITCH, change)
            return sent, await one.get(timeout=1), await two.get(timeout=1)

    assert run(scenario()) == (2, change, change)


def test_the_fake_refuses_unbound_names_and_wrong_types_like_the_real_bus() -> None:
    async def scenario() -> None:
        bus = MemoryBus()
        with pytest.raises(UnknownStreamError):
            await bus.publish("bars.close", bar(0))
        with pytest.raises(EventTypeError):
            await bus.publish("fills", bar(0))
        with pytest.raises(UnknownStreamError):
            bus.subscribe("risk.kill-switch")

    run(scenario())
    with pytest.raises(UnknownStreamError):
        Consumer("bars.close", "execution", "a")


def test_run_consumes_until_it_is_told_to_stop() -> None:
    async def scenario() -> list[str]:
        bus = MemoryBus()
        stop = asyncio.Event()
        record = Recorder()

        async def handler(batch: Sequence[Delivery]) -> None:
            await record(batch)
            if len(record.committed) == 3:
                stop.set()

        runner = asyncio.create_task(bus.run(consumer(), handler, stop))
        for n in range(3):
            await bus.publish(BARS_CLOSED, bar(n))
        await asyncio.wait_for(runner, timeout=5)
        return record.committed

    assert run(scenario()) == [f"bar:test:SPY:1d:{n}" for n in range(3)]


def test_a_new_only_group_skips_what_the_stream_held_before_it_was_created() -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        bus = MemoryBus()
        await bus.publish(BARS_CLOSED, bar(0))
        fresh, everything = Recorder(), Recorder()
        late = Consumer(BARS_CLOSED, "late", "a", block_ms=10, new_only=True)
        await bus.consume(late, fresh)  # created at the stream's end
        await bus.publish(BARS_CLOSED, bar(1))
        await bus.consume(late, fresh)
        await bus.consume(consumer(), everything)
        return fresh.committed, everything.committed

    fresh, everything = asyncio.run(scenario())
    assert fresh == ["bar:test:SPY:1d:1"]
    assert everything == ["bar:test:SPY:1d:0", "bar:test:SPY:1d:1"]
