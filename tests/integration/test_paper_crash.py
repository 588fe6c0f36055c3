"""SIGKILL a paper runner at its most delicate points, start it again, and the session finishes as
if nothing happened: one broker order per client order id, positions equal to the sum of the
fills, every step run once, and the same orders and fills as the backtest of the same bars."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from quant_bus.redis_bus import RedisBus
from quant_bus.streams import BARS_CLOSED, dead_letter_stream
from quant_db import oms_store
from quant_db.schema import Fill, Order, OrderEvent, Position, Run, Strategy
from quant_db.schema.runs import RunStatus, RunType
from quant_execution.recovery import StepMark, steps_group
from quant_ingestion.bar_stream import publish_replay
from tests.integration.paper_crash_child import backtest, feed, scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def url(redis_url: str) -> Iterator[str]:
    client = redis.Redis.from_url(redis_url)
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    yield redis_url
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    client.close()


def _open_run(database_url: str, redis_url: str) -> uuid.UUID:
    """A RUNNING paper run whose whole feed is on the stream (the data service ran ahead)."""
    config, frames, _ = scenario()

    async def main() -> uuid.UUID:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        bus = RedisBus.from_url(redis_url)
        try:
            async with sessions.begin() as db:
                db.add(Strategy(id=config.id, class_path=config.class_path, config={}))
                await db.flush()
                run = Run(
                    strategy_id=config.id, type=RunType.PAPER, status=RunStatus.RUNNING, config={}
                )
                db.add(run)
            await publish_replay(bus, frames, source=feed(run.id))
            return run.id
        finally:
            await bus.close()
            await engine.dispose()

    return asyncio.run(main())


def _child(database_url: str, redis_url: str, run_id: uuid.UUID, out: Path, crash: str = "") -> int:
    command = [sys.executable, "-m", "tests.integration.paper_crash_child"]
    command += [database_url, redis_url, str(run_id), str(out)]
    if crash:
        command += ["--crash", crash]
    done = subprocess.run(
        command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"the runner failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.returncode


def _stored(database_url: str, redis_url: str, run_id: uuid.UUID) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        bus = RedisBus.from_url(redis_url)
        try:
            async with sessions() as db:
                orders = (
                    await db.scalars(select(Order).where(Order.run_id == run_id).order_by(Order.id))
                ).all()
                fills = (
                    await db.scalars(select(Fill).where(Fill.run_id == run_id).order_by(Fill.id))
                ).all()
                accepted = (
                    await db.execute(
                        select(OrderEvent.client_order_id, func.count())
                        .where(OrderEvent.run_id == run_id, OrderEvent.status == "accepted")
                        .group_by(OrderEvent.client_order_id)
                    )
                ).all()
                positions = (
                    await db.scalars(select(Position).where(Position.run_id == run_id))
                ).all()
                marks = await oms_store.processed_keys(db, steps_group(run_id), "step:")
            return {
                "orders": orders,
                "fills": fills,
                "accepted": dict(accepted),
                "positions": positions,
                "marks": [StepMark.parse(k) for k in marks],
                "pending": await bus.pending(BARS_CLOSED, f"paper-{run_id}"),
            }
        finally:
            await bus.close()
            await engine.dispose()

    return asyncio.run(main())


def _crash_and_restart(
    database_url: str, redis_url: str, tmp_path: Path, crash: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    run_id = _open_run(database_url, redis_url)
    assert _child(database_url, redis_url, run_id, tmp_path / "first.json", crash) == (
        -signal.SIGKILL
    )
    at_crash = _stored(database_url, redis_url, run_id)
    assert _child(database_url, redis_url, run_id, tmp_path / "second.json") == 0
    outcome = json.loads((tmp_path / "second.json").read_text())
    return at_crash, _stored(database_url, redis_url, run_id), outcome


def _assert_finished_as_the_backtest(
    at_crash: dict[str, Any], stored: dict[str, Any], outcome: dict[str, Any]
) -> None:
    expected = backtest()
    _, frames, _ = scenario()
    times = list(next(iter(frames.values())).index)
    # the restart replayed the steps finished before the crash, then ran each other step once
    assert outcome["restored"] == len(at_crash["marks"]) > 0
    assert outcome["processed"] == len(times)
    marks = stored["marks"]
    assert [m.index for m in marks] == list(range(len(times)))
    assert [m.at for m in marks] == [t.to_pydatetime() for t in times]
    assert stored["pending"] == 0  # every bar acknowledged, none lost
    # exactly one broker order per client order id
    cids = [o.client_order_id for o in stored["orders"]]
    assert len(cids) == len(set(cids))
    assert set(stored["accepted"].values()) == {1}
    assert set(stored["accepted"]) == {
        r.order.client_order_id for r in expected.orders if r.broker_order_id is not None
    }
    # the stored orders and fills are the backtest's
    assert [
        (o.client_order_id, o.symbol, o.side, o.quantity, o.status, o.filled_quantity)
        for o in stored["orders"]
    ] == [
        (
            r.order.client_order_id,
            r.order.symbol,
            r.order.side.value,
            r.order.quantity,
            r.status.value,
            r.filled_quantity,
        )
        for r in expected.orders
    ]
    assert [
        (f.client_order_id, f.symbol, f.side, f.quantity, f.price, f.commission)
        for f in stored["fills"]
    ] == [
        (f.client_order_id, f.symbol, f.side.value, f.quantity, f.price, f.commission)
        for f in expected.fills
    ]
    # positions are the sum of the fills per (strategy, symbol), and the backtest's
    summed: Counter[tuple[str, str]] = Counter()
    strategy = {o.client_order_id: o.strategy_id for o in stored["orders"]}
    for f in stored["fills"]:
        signed = f.quantity if f.side == "buy" else -f.quantity
        summed[(strategy[f.client_order_id], f.symbol)] += signed
    held = {(p.strategy_id, p.symbol): p.quantity for p in stored["positions"]}
    assert held == {k: summed.get(k, Decimal(0)) for k in held}
    assert {k[1]: q for k, q in held.items() if q} == expected.final_positions
    assert outcome["problems"] == [], outcome["problems"]
    assert outcome["identical"], outcome["summary"]
    assert len(expected.orders) > 20


def test_a_runner_killed_between_an_orders_commit_and_its_broker_call_sends_it_once_on_restart(
    database_url: str, url: str, tmp_path: Path
) -> None:
    at_crash, stored, outcome = _crash_and_restart(database_url, url, tmp_path, "pending:12")
    # the twelfth order is written down and was never sent
    assert len(at_crash["orders"]) == 12
    assert at_crash["orders"][-1].status == "pending_submit"
    assert at_crash["orders"][-1].client_order_id not in at_crash["accepted"]
    _assert_finished_as_the_backtest(at_crash, stored, outcome)


def test_a_runner_killed_after_the_brokers_acceptance_is_stored_acknowledges_it_once_on_restart(
    database_url: str, url: str, tmp_path: Path
) -> None:
    at_crash, stored, outcome = _crash_and_restart(database_url, url, tmp_path, "accepted:9")
    # the ninth acceptance is stored, its step is neither marked nor acknowledged
    assert len(at_crash["accepted"]) == 9
    assert at_crash["pending"] > 0
    _assert_finished_as_the_backtest(at_crash, stored, outcome)


def test_a_runner_killed_in_the_middle_of_a_batch_runs_neither_its_done_steps_twice_nor_loses_one(
    database_url: str, url: str, tmp_path: Path
) -> None:
    # batches of 40 entries of 3-bar steps: step 100 (the 101st) starts mid-batch, after 93-99
    at_crash, stored, outcome = _crash_and_restart(database_url, url, tmp_path, "step:101")
    assert len(at_crash["marks"]) == 100
    assert at_crash["pending"] > 0  # the batch was handed out and never acknowledged
    assert outcome["skipped"] > 0  # its finished steps' bars came again and were skipped
    _assert_finished_as_the_backtest(at_crash, stored, outcome)
