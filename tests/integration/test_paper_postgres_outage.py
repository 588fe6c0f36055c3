"""PostgreSQL goes away in the middle of a paper session: nothing is written or sent while it is
down, the runner says so in its health, and when it is back the session carries on by itself
(rebuilt from the store when a step broke half-way), still trading exactly as the backtest.

Each test takes away a PostgreSQL of its own (the session's is shared by every other test).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_bus.redis_bus import RedisBus
from quant_db import controls
from quant_db.journal import PostgresJournal
from quant_db.schema import Run, Strategy
from quant_db.schema.runs import RunStatus, RunType
from quant_domain import KillSwitchMode
from quant_domain.events import ExecutionReport, OrderFilled
from quant_domain.ports import OrderJournal
from quant_engine.paper import PaperSession, equal_runs
from quant_execution.paper_runner import PaperRunner
from quant_execution.recovery import Recovery, stream_history
from quant_ingestion.bar_stream import publish_replay
from quant_strategy import build_strategy
from tests.integration.paper_crash_child import backtest, feed, scenario
from tests.integration.private_servers import PrivatePostgres
from tests.integration.test_paper_crash import _stored
from tests.integration.test_paper_through_services import url  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    yield server
    server.close()


@pytest.fixture
def database(postgres: PrivatePostgres) -> Iterator[str]:
    with postgres.database() as database_url:
        yield database_url


class Outage:
    """When PostgreSQL was taken away and given back (monotonic seconds), and every write the
    journals made and every order the paper brokers received, with the time it happened."""

    def __init__(self) -> None:
        self.down_at = float("inf")
        self.up_at = float("inf")
        self.writes: list[float] = []
        self.submits: list[float] = []

    def during(self, moments: list[float]) -> list[float]:
        return [t for t in moments if self.down_at <= t < self.up_at]


def _session(
    journal: OrderJournal, outage: Outage, stop_before_a_fill: Callable[[], None] | None
) -> PaperSession:
    """The scenario's session, watched: the journal's writes and the broker's submissions are
    timed, and (the first session only) PostgreSQL stops just before a fill is stored."""
    config, _, bt = scenario()
    session = PaperSession(build_strategy(config), bt, account="paper", journal=journal)
    assert isinstance(journal, PostgresJournal)
    real_pending, real_report, real_submit = journal.pending, journal.report, session.broker.submit
    filled = [0]

    def pending(order: Any, at: Any) -> None:
        real_pending(order, at)
        outage.writes.append(time.monotonic())

    def report(report: ExecutionReport) -> None:
        if isinstance(report, OrderFilled) and stop_before_a_fill is not None:
            filled[0] += 1
            if filled[0] == 6:  # filled at this step's open, before its decisions: half-way
                stop_before_a_fill()
        real_report(report)
        outage.writes.append(time.monotonic())

    def submit(order: Any) -> None:
        outage.submits.append(time.monotonic())
        real_submit(order)

    journal.pending = pending  # type: ignore[method-assign]
    journal.report = report  # type: ignore[method-assign]
    session.broker.submit = submit  # type: ignore[method-assign]
    return session


def _paper_session(
    database_url: str, redis_url: str, postgres: PrivatePostgres, *, from_inside: bool
) -> dict[str, Any]:
    config, frames, _ = scenario()
    steps = len(next(iter(frames.values())))
    outage = Outage()

    def stop_postgres() -> None:
        if outage.down_at == float("inf"):
            postgres.stop()
            outage.down_at = time.monotonic()

    async def main() -> dict[str, Any]:
        engine = create_async_engine(database_url)
        sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False
        )
        bus = RedisBus.from_url(redis_url)
        client = Redis.from_url(redis_url, decode_responses=True)
        try:
            async with sessions.begin() as db:
                db.add(Strategy(id=config.id, class_path=config.class_path, config={}))
                await db.flush()
                run = Run(
                    strategy_id=config.id, type=RunType.PAPER, status=RunStatus.RUNNING, config={}
                )
                db.add(run)
            run_id, group = run.id, f"paper-{run.id}"
            await publish_replay(bus, frames, source=feed(run_id))
            built = [0]

            def build(journal: OrderJournal) -> PaperSession:
                built[0] += 1
                first = built[0] == 1 and from_inside
                return _session(journal, outage, stop_postgres if first else None)

            async def mode() -> KillSwitchMode:
                async with sessions() as db:
                    return KillSwitchMode((await controls.kill_switch(db)).mode)

            async def history() -> Any:
                return await stream_history(client, feed(run_id), group=group)

            recovery = Recovery(sessions, run_id, build, history)
            runner = await PaperRunner.resume(
                bus,
                recovery,
                group=group,
                name="execution-1",
                kill_switch=mode,
                source=feed(run_id),
                retry_cap=0.5,
                block_ms=50,
                batch=40,
            )
            trading = asyncio.create_task(runner.run_until(steps, timeout=180))
            if not from_inside:
                while runner.processed < 90:
                    await asyncio.sleep(0.005)
                await asyncio.to_thread(stop_postgres)
            while runner.health.database_ok:
                assert not trading.done(), "the session ended before PostgreSQL went away"
                await asyncio.sleep(0.01)
            processed = runner.processed
            await asyncio.sleep(2.0)  # several retries, all refused
            down = {
                "health": (runner.health.database_ok, runner.health.last_error),
                "steps": runner.processed - processed,
                "running": not trading.done(),
            }
            outage.up_at = time.monotonic()
            await asyncio.to_thread(postgres.start)
            await trading  # resumed with no manual step
            return {"paper": runner.close(), "down": down, "health": runner.health, "id": run_id}
        finally:
            await client.aclose()
            await bus.close()
            await engine.dispose()

    got = asyncio.run(main())
    return {**got, **_stored(database_url, redis_url, got["id"]), "outage": outage, "steps": steps}


def _assert_rode_it_out(got: dict[str, Any]) -> None:
    outage: Outage = got["outage"]
    assert outage.down_at < outage.up_at < float("inf")
    # while PostgreSQL was away nothing was written, nothing was sent, no step ran
    assert outage.during(outage.writes) == []
    assert outage.during(outage.submits) == []
    assert got["down"]["steps"] == 0
    assert got["down"]["running"]
    database_ok, last_error = got["down"]["health"]
    assert not database_ok
    assert last_error
    assert got["health"].database_ok  # and it said so, then recovered by itself
    # every step ran once, every bar was acknowledged, one broker order per client order id
    assert len(got["marks"]) == got["steps"]
    assert got["pending"] == 0
    cids = [o.client_order_id for o in got["orders"]]
    assert len(cids) == len(set(cids))
    assert set(got["accepted"].values()) == {1}
    # nothing was refused for want of a journal: the session is the backtest's
    expected = backtest()
    assert all(o.code != "JOURNAL_UNAVAILABLE" for o in got["orders"])
    assert cids == [r.order.client_order_id for r in expected.orders]
    assert equal_runs(got["paper"], expected) == []


def test_postgresql_stopping_while_a_step_is_half_written_rebuilds_the_session_when_it_returns(
    database: str,
    url: str,  # noqa: F811
    postgres: PrivatePostgres,
) -> None:
    got = _paper_session(database, url, postgres, from_inside=True)
    _assert_rode_it_out(got)
    assert got["health"].restores == 1  # the half-written session was thrown away and rebuilt


def test_postgresql_stopped_under_a_running_session_holds_every_step_until_it_returns(
    database: str,
    url: str,  # noqa: F811
    postgres: PrivatePostgres,
) -> None:
    got = _paper_session(database, url, postgres, from_inside=False)
    _assert_rode_it_out(got)
