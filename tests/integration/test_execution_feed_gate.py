"""The entry gate on the live feed's health (ADR 0041), through a paper runner on real PostgreSQL
and Valkey: a stale symbol refuses new entries (recorded as FEED_STALE) while exits leave, a
fresh feed allows them again, an unreadable feed holds every entry, and a rebuilt session
refuses what it refused before."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_bus.feed_health import FeedHealth, health_key, write_health
from quant_bus.redis_bus import RedisBus
from quant_db.schema import Order
from quant_domain import KillSwitchMode, OrderSide, OrderStatus
from quant_domain.ports import OrderJournal
from quant_engine.oms import OrderRecord
from quant_engine.paper import PaperSession, equal_runs
from quant_execution.feed_gate import STALE, FeedGate
from quant_execution.paper_runner import PaperRunner
from quant_execution.recovery import Recovery, RecoveryError, restore_session, stream_history
from quant_strategy import build_strategy
from tests.integration.paper_crash_child import SYMBOLS, feed, scenario
from tests.integration.test_paper_crash import _open_run, url  # noqa: F401 - the fixture

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # the gate's clock: every written health is fresh
HELD = "SYN000"
State = Literal["ok", "warn", "block"]


def _config() -> Any:
    config, _, _ = scenario()
    # long only: every sell is an exit, every buy an entry
    return config.updated(risk=config.risk.model_copy(update={"allow_short": False}))


async def _health(client: Redis, source: str, states: dict[str, State]) -> None:
    await write_health(
        client,
        source,
        [
            FeedHealth(source=source, symbol=s, state=state, since=NOW, updated_at=NOW)
            for s, state in states.items()
        ],
    )
    await client.persist(health_key(source))  # the test's clock stands still; so does the key


def _dead_redis() -> Redis:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # no retries: each read fails at once (the gate's own timeout bounds a client that retries)
    return Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0))


class Trading:
    """A paper runner on the scenario's feed, its entries held on that feed's health."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: Redis,
        run_id: uuid.UUID,
        runner: PaperRunner,
        gate: FeedGate,
        recovery: Recovery,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.run_id = run_id
        self.runner = runner
        self.gate = gate
        self.recovery = recovery
        self.source = feed(run_id)

    @property
    def orders(self) -> list[OrderRecord]:
        return self.runner.session.loop.orders

    def held(self, symbol: str) -> bool:
        return self.runner.session.ledger.position(symbol) != 0

    async def step_until(self, done: Callable[[], bool], limit: int = 240) -> None:
        while not done():
            assert self.runner.processed < limit, "the feed ended first"
            await self.runner.run_until(self.runner.processed + 1, timeout=60)

    def refusals(self) -> list[OrderRecord]:
        return [r for r in self.orders if r.code == STALE]


def _gate_build(config: Any, bt: Any, gate: FeedGate, run_id: uuid.UUID) -> Any:
    def build(journal: OrderJournal) -> PaperSession:
        session = PaperSession(build_strategy(config), bt, account="paper", journal=journal)
        gate.attach(run_id, config.id, session)
        return session

    return build


def _trading(database_url: str, redis_url: str, body: Callable[[Trading], Awaitable[Any]]) -> Any:
    run_id = _open_run(database_url, redis_url)
    config = _config()
    _, _, bt = scenario()

    async def main() -> Any:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        bus = RedisBus.from_url(redis_url)
        client = Redis.from_url(redis_url, decode_responses=True)
        source = feed(run_id)
        group = f"paper-{run_id}"
        # the feed's name says replay; told it is live, the gate reads its health
        gate = FeedGate(source, client, kind="live", clock=lambda: NOW)

        async def active() -> KillSwitchMode:
            return KillSwitchMode.ACTIVE

        async def history() -> Any:
            return await stream_history(client, source, group=group)

        try:
            await _health(client, source, dict.fromkeys(SYMBOLS, "ok"))
            recovery = Recovery(sessions, run_id, _gate_build(config, bt, gate, run_id), history)
            runner = await PaperRunner.resume(
                bus,
                recovery,
                group=group,
                name="execution-1",
                source=source,
                block_ms=50,
                kill_switch=gate.guard(run_id, active),
            )
            return await body(Trading(sessions, client, run_id, runner, gate, recovery))
        finally:
            await client.delete(health_key(source))
            await client.aclose()
            await bus.close()
            await engine.dispose()

    return asyncio.run(main())


def _between(records: Iterable[OrderRecord], start: datetime, end: datetime) -> list[OrderRecord]:
    return [r for r in records if start < r.submitted_at <= end]


def test_a_stale_symbol_refuses_its_entries_lets_its_exits_out_and_a_fresh_feed_allows_them(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    async def body(t: Trading) -> Any:
        await t.step_until(lambda: t.held(HELD))
        await _health(t.client, t.source, {HELD: "block", "SYN001": "warn", "SYN002": "ok"})
        blocked_at = t.runner.session.timeline.times[-1]
        # hold until the position was closed (an exit) and a new entry was refused
        await t.step_until(lambda: not t.held(HELD) and bool(t.refusals()))
        await t.step_until(lambda: t.runner.processed >= 160)
        await _health(t.client, t.source, dict.fromkeys(SYMBOLS, "ok"))
        released_at = t.runner.session.timeline.times[-1]
        await t.step_until(lambda: t.runner.processed >= 240)
        async with t.sessions() as db:
            stored = (
                await db.execute(
                    select(Order.symbol, Order.side, Order.status, Order.reason).where(
                        Order.run_id == t.run_id, Order.code == STALE
                    )
                )
            ).all()
        return blocked_at, released_at, list(t.orders), stored

    blocked_at, released_at, orders, stored = _trading(database_url, url, body)
    window = _between(orders, blocked_at, released_at)
    held = [r for r in window if r.order.symbol == HELD]
    entries = [r for r in held if r.order.side is OrderSide.BUY]
    exits = [r for r in held if r.order.side is OrderSide.SELL]
    assert entries
    assert all((r.status, r.code) == (OrderStatus.REJECTED, STALE) for r in entries)
    assert exits
    assert all(r.status is OrderStatus.FILLED for r in exits)
    # the other symbols (one of them warned: warn does not hold) trade on meanwhile
    others = [r for r in window if r.order.symbol != HELD]
    assert any(r.order.side is OrderSide.BUY and r.status is OrderStatus.FILLED for r in others)
    assert not [r for r in orders if r.code == STALE and r not in window]
    later = _between(orders, released_at, datetime.max.replace(tzinfo=UTC))
    assert any(
        r.order.symbol == HELD and r.order.side is OrderSide.BUY and r.status is OrderStatus.FILLED
        for r in later
    )
    # recorded in PostgreSQL as every gate refusal is: REJECTED, its code, a reason naming why
    assert len(stored) == len(entries)
    for symbol, side, status, reason in stored:
        assert (symbol, side, status) == (HELD, "buy", "rejected")
        assert f"no new entry in {HELD}: live feed " in reason
        assert f"has had no {HELD} bar for five intervals" in reason
        assert "exits and reductions still pass" in reason


def test_redis_unreachable_holds_every_entry_while_exits_still_leave(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    async def body(t: Trading) -> Any:
        await t.step_until(lambda: t.held(HELD))
        dead = _dead_redis()
        t.gate.redis = dead
        down_at = t.runner.session.timeline.times[-1]
        await t.step_until(lambda: not t.held(HELD) and bool(t.refusals()))
        back_at = t.runner.session.timeline.times[-1]
        hold = t.gate.holds[t.run_id]
        during = hold.current
        t.gate.redis = t.client
        await t.step_until(lambda: t.runner.processed >= 240)
        await dead.aclose()
        return down_at, back_at, during, hold.current, list(t.orders)

    down_at, back_at, during, after, orders = _trading(database_url, url, body)
    assert set(during) == set(SYMBOLS)
    assert all("could not be read from Redis" in why for why in during.values())
    assert after == {}
    window = _between(orders, down_at, back_at)
    assert all(
        (r.status, r.code) == (OrderStatus.REJECTED, STALE)
        for r in window
        if r.order.side is OrderSide.BUY
    )
    exits = [r for r in window if r.order.side is OrderSide.SELL]
    assert exits
    assert all(r.status is OrderStatus.FILLED for r in exits)
    assert any(
        r.order.side is OrderSide.BUY and r.status is OrderStatus.FILLED
        for r in _between(orders, back_at, datetime.max.replace(tzinfo=UTC))
    )


def test_a_rebuilt_session_refuses_the_entries_it_refused_even_after_the_feed_recovered(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    async def body(t: Trading) -> Any:
        await t.step_until(lambda: t.held(HELD))
        await _health(t.client, t.source, {HELD: "block", "SYN001": "ok", "SYN002": "ok"})
        await t.step_until(lambda: len(t.refusals()) >= 2)
        await _health(t.client, t.source, dict.fromkeys(SYMBOLS, "ok"))
        await t.step_until(lambda: t.runner.processed >= 200)
        ran = t.runner.session.result()
        # in this process: the hold remembers its refusals
        again = await restore_session(t.recovery)
        # after a restart: a new gate reads them back from the store
        fresh = FeedGate(t.source, t.client, kind="live", clock=lambda: NOW)
        config, (_, _, bt) = _config(), scenario()
        await fresh.recall(t.sessions, t.run_id)
        restarted = Recovery(
            t.sessions, t.run_id, _gate_build(config, bt, fresh, t.run_id), t.recovery.history
        )
        taken_up = await restore_session(restarted)
        # a gate that forgot them decides differently, which the replay catches
        forgetful = FeedGate(t.source, t.client, kind="live", clock=lambda: NOW)
        wrong = Recovery(
            t.sessions, t.run_id, _gate_build(config, bt, forgetful, t.run_id), t.recovery.history
        )
        with pytest.raises(RecoveryError):
            await restore_session(wrong)
        return ran, again, taken_up

    ran, again, taken_up = _trading(database_url, url, body)
    assert len([r for r in ran.orders if r.code == STALE]) >= 2
    for restored in (again, taken_up):
        assert equal_runs(restored.session.result(), ran) == []
        assert restored.journal.written == 0
