"""The bus on a real Redis-protocol server (embedded Valkey, or QUANT_TEST_REDIS_URL).

Thresholds are short (claim after 150 ms idle) so the file stays within a few seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import redis

from quant_bus import (
    BARS_CLOSED,
    KILL_SWITCH,
    RISK_MODE,
    BarClosedEvent,
    Consumer,
    DeadLetter,
    Delivery,
    KillSwitchChanged,
    RedisBus,
    RiskModeChanged,
)
from quant_bus.streams import dead_letter_stream
from quant_db.embedded import embedded_redis_url, revive_valkey
from quant_domain import KillSwitchMode
from tests.integration.test_outage_redis import _kill

T = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
GROUP = "execution"
IDLE_MS = 150
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


def key(n: int) -> str:
    return f"bar:test:SPY:1d:{n}"


def consumer(name: str, **rules: int) -> Consumer:
    return Consumer(BARS_CLOSED, GROUP, name, block_ms=20, claim_idle_ms=IDLE_MS, **rules)


@pytest.fixture
def url(redis_url: str) -> Iterator[str]:
    """The server with no bars stream or dead letters left by an earlier test."""
    client = redis.Redis.from_url(redis_url)
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    yield redis_url
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    client.close()


def with_bus(url: str, scenario: Callable[[RedisBus], Awaitable[R]], **options: object) -> R:
    async def main() -> R:
        bus = RedisBus.from_url(url, **options)  # type: ignore[arg-type]
        try:
            return await scenario(bus)
        finally:
            await bus.close()

    return asyncio.run(main())


class Recorder:
    """A handler that records what it committed; raises while a key of the batch is `failing`."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.committed: list[str] = []
        self.deliveries: list[int] = []
        self.failing = failing or set()

    async def __call__(self, batch: Sequence[Delivery]) -> None:
        self.deliveries.extend(d.deliveries for d in batch)
        keys = [d.event.idempotency_key for d in batch]
        if self.failing & set(keys):
            raise RuntimeError("transaction rolled back")
        self.committed.extend(keys)


def test_an_entry_is_acknowledged_only_after_the_handler_returns(url: str) -> None:
    async def scenario(bus: RedisBus) -> tuple[list[int], int]:
        pending_inside: list[int] = []

        async def handler(batch: Sequence[Delivery]) -> None:
            pending_inside.append(await bus.pending(BARS_CLOSED, GROUP))

        await bus.consume(consumer("a"), handler)  # creates the group, finds nothing
        await bus.publish(BARS_CLOSED, bar(0))
        result = await bus.consume(consumer("a"), handler)
        assert result.acked == 1
        return pending_inside, await bus.pending(BARS_CLOSED, GROUP)

    inside, after = with_bus(url, scenario)
    assert inside == [1]
    assert after == 0


def test_a_new_only_group_reads_only_entries_added_after_it_was_created(url: str) -> None:
    async def scenario(bus: RedisBus) -> tuple[list[str], list[str]]:
        await bus.publish(BARS_CLOSED, bar(0))
        fresh, everything = Recorder(), Recorder()
        late = Consumer(BARS_CLOSED, "late", "a", block_ms=20, new_only=True)
        await bus.consume(late, fresh)
        await bus.publish(BARS_CLOSED, bar(1))
        await bus.consume(late, fresh)
        await bus.consume(consumer("a"), everything)
        return fresh.committed, everything.committed

    fresh, everything = with_bus(url, scenario)
    assert fresh == [key(1)]
    assert everything == [key(0), key(1)]


def test_a_handler_that_raises_leaves_the_entry_pending_and_it_is_delivered_again(
    url: str,
) -> None:
    async def scenario(bus: RedisBus) -> tuple[int, Recorder, int]:
        for n in range(2):
            await bus.publish(BARS_CLOSED, bar(n))
        record = Recorder(failing={key(1)})
        c = consumer("a")
        while not record.deliveries:
            await bus.consume(c, record)
        pending_after_failure = await bus.pending(BARS_CLOSED, GROUP)
        record.failing.clear()  # the database is back
        deadline = time.monotonic() + 5
        while key(1) not in record.committed and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            await bus.consume(c, record)
        return pending_after_failure, record, await bus.pending(BARS_CLOSED, GROUP)

    pending_after_failure, record, pending = with_bus(url, scenario)
    assert pending_after_failure == 1
    assert record.committed == [key(0), key(1)]
    assert record.deliveries[-1] == 2  # handed out again, by claim once idle
    assert pending == 0


def test_a_restarted_consumer_drains_its_own_pending_entries_before_new_ones(url: str) -> None:
    async def crash(bus: RedisBus) -> int:
        await bus.consume(consumer("a"), Recorder())  # creates the group, finds nothing
        for n in range(2):
            await bus.publish(BARS_CLOSED, bar(n))
        # a crash after reading, before the handler committed: nothing acknowledged
        reply = await bus._client.xreadgroup(GROUP, "a", {BARS_CLOSED: ">"}, count=10)
        await bus.publish(BARS_CLOSED, bar(2))
        return len(reply[0][1])

    async def restart(bus: RedisBus) -> Recorder:
        record = Recorder()
        for _ in range(3):
            await bus.consume(consumer("a"), record)
        return record

    assert with_bus(url, crash) == 2
    record = with_bus(url, restart)
    assert record.committed == [key(0), key(1), key(2)]
    assert record.deliveries == [2, 2, 1]


def test_a_dead_consumers_entries_are_claimed_after_the_idle_threshold(url: str) -> None:
    async def scenario(bus: RedisBus) -> tuple[list[str], list[str], list[int], int]:
        for n in range(10):
            await bus.publish(BARS_CLOSED, bar(n))
        await bus._client.xgroup_create(BARS_CLOSED, GROUP, id="0")
        await bus._client.xreadgroup(GROUP, "dead", {BARS_CLOSED: ">"}, count=10)  # then dies
        record = Recorder()
        b = consumer("b")
        await bus.consume(b, record)  # too soon: not idle long enough yet
        early = list(record.committed)
        await asyncio.sleep(IDLE_MS / 1_000 + 0.05)
        await bus.consume(b, record)
        return early, record.committed, record.deliveries, await bus.pending(BARS_CLOSED, GROUP)

    early, committed, deliveries, pending = with_bus(url, scenario)
    assert early == []
    assert committed == [key(n) for n in range(10)]
    assert deliveries == [2] * 10
    assert pending == 0


def test_claimed_entries_carry_their_own_delivery_counts_among_the_claimers_pending_ones(
    url: str,
) -> None:
    async def scenario(bus: RedisBus) -> dict[str, int]:
        for n in range(6):
            await bus.publish(BARS_CLOSED, bar(n))
        await bus._client.xgroup_create(BARS_CLOSED, GROUP, id="0")
        for n in range(6):  # interleaved: the dead consumer holds 0, 2, 4 and "b" holds 1, 3, 5
            await bus._client.xreadgroup(
                GROUP, "dead" if n % 2 == 0 else "b", {BARS_CLOSED: ">"}, count=1
            )
        await asyncio.sleep(IDLE_MS / 1_000 + 0.05)
        seen: dict[str, int] = {}

        async def handler(batch: Sequence[Delivery]) -> None:
            for d in batch:
                seen.setdefault(d.event.idempotency_key, d.deliveries)
            if any(int(d.event.idempotency_key[-1]) % 2 for d in batch):
                raise RuntimeError("b's own entries keep failing")

        b = consumer("b")
        await bus.consume(b, handler)  # its own pending: 1, 3, 5 fail and are fresh again
        await bus.consume(b, handler)  # nothing more of its own
        await bus.consume(b, handler)  # claims 0, 2, 4 from the dead consumer
        return seen

    seen = with_bus(url, scenario)
    assert {k: seen[k] for k in (key(1), key(3), key(5))} == {key(1): 2, key(3): 2, key(5): 2}
    assert {k: seen.get(k) for k in (key(0), key(2), key(4))} == {key(0): 2, key(2): 2, key(4): 2}


def test_the_fifth_failed_delivery_goes_to_the_dead_letters_and_raises_an_alert(
    url: str,
) -> None:
    alerts: list[DeadLetter] = []

    async def alert(letter: DeadLetter) -> None:
        alerts.append(letter)

    async def scenario(bus: RedisBus) -> tuple[Recorder, list[DeadLetter], int]:
        await bus.publish(BARS_CLOSED, bar(0))
        await bus.publish(BARS_CLOSED, bar(1))
        record = Recorder(failing={key(0)})
        c = consumer("a", max_deliveries=5)
        deadline = time.monotonic() + 10
        while not alerts and time.monotonic() < deadline:
            await bus.consume(c, record)
            await asyncio.sleep(0.03)
        return record, await bus.dead_letters(BARS_CLOSED), await bus.pending(BARS_CLOSED, GROUP)

    record, dead, pending = with_bus(url, scenario, alert=alert)
    assert record.committed == [key(1)]  # the good entry of the batch was not held back
    assert [d for d in record.deliveries if d > 1] == [2, 3, 4, 5]
    assert len(dead) == 1
    assert dead[0].entry_id == alerts[0].entry_id
    assert dead[0].deliveries == 5
    assert "transaction rolled back" in dead[0].reason
    assert dead[0].fields["key"] == key(0)
    assert pending == 0  # acknowledged on its stream once it is safe in the dead letters
    assert len(alerts) == 1


def test_an_entry_that_does_not_decode_goes_to_the_dead_letters_at_once(url: str) -> None:
    async def scenario(bus: RedisBus) -> tuple[Recorder, list[DeadLetter]]:
        await bus._client.xadd(BARS_CLOSED, {"type": "BarClosedEvent", "data": "{not json"})
        await bus.publish(BARS_CLOSED, bar(0))
        record = Recorder()
        for _ in range(2):
            await bus.consume(consumer("a"), record)
        return record, await bus.dead_letters(BARS_CLOSED)

    record, dead = with_bus(url, scenario)
    assert record.committed == [key(0)]
    assert len(dead) == 1
    assert dead[0].deliveries == 1
    assert "does not decode" in dead[0].reason


def test_trimming_by_age_removes_only_entries_older_than_the_retention(url: str) -> None:
    async def scenario(bus: RedisBus) -> tuple[int, list[str], Recorder]:
        await bus.consume(consumer("a"), Recorder())  # the group exists before anything is read
        old = [await bus.publish(BARS_CLOSED, bar(n)) for n in range(3)]
        await asyncio.sleep(0.4)
        new = [await bus.publish(BARS_CLOSED, bar(n)) for n in range(3, 6)]
        await bus.trim(BARS_CLOSED)
        left = [entry_id for entry_id, _ in await bus._client.xrange(BARS_CLOSED)]
        assert not set(old) & set(left)
        record = Recorder()
        await bus.consume(consumer("a"), record)
        return len(left), [i for i in new if i in left], record

    count, kept, record = with_bus(url, scenario, retention=timedelta(milliseconds=300))
    assert count == 3
    assert len(kept) == 3
    assert record.committed == [key(n) for n in range(3, 6)]  # unread and newer: all delivered


def test_a_broadcast_reaches_a_subscriber_as_its_typed_event(url: str) -> None:
    change = KillSwitchChanged(
        idempotency_key="kill-switch:1",
        mode=KillSwitchMode.FLATTEN_AND_HALT,
        previous=KillSwitchMode.ACTIVE,
        changed_by="admin",
        reason="drill",
        timestamp=T,
    )
    breaker = RiskModeChanged(
        idempotency_key="risk-mode:1",
        strategy_id="momentum_v1",
        mode=KillSwitchMode.REDUCE_ONLY,
        breaker="daily_loss",
        timestamp=T,
    )

    async def scenario(bus: RedisBus) -> tuple[int, object, object, object]:
        async with bus.subscribe(KILL_SWITCH) as kill, bus.subscribe(RISK_MODE) as modes:
            sent = await bus.broadcast(KILL_SWITCH, change)
            await bus.broadcast(RISK_MODE, breaker)
            got = await kill.get(timeout=2)
            other = await modes.get(timeout=2)
            silence = await kill.get(timeout=0.1)
        return sent, got, other, silence

    assert with_bus(url, scenario) == (1, change, breaker, None)


def test_a_running_consumer_rides_out_a_valkey_crash_and_reads_again_once_it_is_back(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    url = embedded_redis_url(state)  # a server of this test's own, killed as a crash would

    async def until(record: Recorder, k: str) -> None:
        deadline = time.monotonic() + 10
        while k not in record.committed:
            assert time.monotonic() < deadline, f"{k} never reached the handler"
            await asyncio.sleep(0.02)

    async def scenario(bus: RedisBus) -> list[str]:
        stop = asyncio.Event()
        record = Recorder()
        runner = asyncio.create_task(bus.run(consumer("a"), record, stop))
        await bus.publish(BARS_CLOSED, bar(0))
        await until(record, key(0))
        await asyncio.to_thread(_kill, url)
        await asyncio.sleep(0.3)  # the consumer's reads fail meanwhile; run() keeps trying
        assert not runner.done()
        assert await asyncio.to_thread(revive_valkey, state)
        await bus.publish(BARS_CLOSED, bar(1))
        await until(record, key(1))
        stop.set()
        await asyncio.wait_for(runner, timeout=5)
        return record.committed

    assert with_bus(url, scenario) == [key(0), key(1)]
