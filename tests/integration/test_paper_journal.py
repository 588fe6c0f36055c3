"""A paper session writes every order to PostgreSQL before its broker sees it, and its fills once."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from quant_backtest.paper_replay import replay_paper
from quant_db import oms_store
from quant_db.journal import PostgresJournal
from quant_db.schema import Order, Run, Strategy
from quant_db.schema.runs import RunStatus, RunType
from quant_engine import BacktestConfig
from quant_marketdata import SampleSource
from quant_strategy import load_strategy_config

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "strategies" / "momentum_v1.yaml"


def _paper_session_into(database_url: str, *, down_after: int | None = None) -> dict[str, Any]:
    config = load_strategy_config(CONFIG)
    bt = BacktestConfig(start=date(2012, 1, 1), end=date(2016, 12, 31))

    async def main() -> dict[str, Any]:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            async with sessions.begin() as session:
                session.add(Strategy(id=config.id, class_path=config.class_path, config={}))
                await session.flush()
                run = Run(
                    strategy_id=config.id, type=RunType.PAPER, status=RunStatus.RUNNING, config={}
                )
                session.add(run)
            journal = PostgresJournal(sessions, run.id, asyncio.get_running_loop())
            if down_after is not None:  # the database goes away after this many orders
                real = journal.pending
                calls = [0]

                def flaky(order: Any, at: Any) -> None:
                    calls[0] += 1
                    if calls[0] > down_after:
                        raise ConnectionError("connection refused")
                    real(order, at)

                journal.pending = flaky  # type: ignore[method-assign]
            outcome = await asyncio.to_thread(
                replay_paper, config, SampleSource(), bt, journal=journal
            )
            async with sessions() as session:
                stored = (await session.scalars(select(Order).where(Order.run_id == run.id))).all()
                book = await oms_store.positions(session, run.id)
                first = stored[0].client_order_id if stored else ""
                history = await oms_store.order_history(session, run.id, first) if stored else []
            return {"outcome": outcome, "orders": stored, "book": book, "history": history}
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_every_paper_order_and_fill_lands_in_postgresql_written_ahead(database_url: str) -> None:
    got = _paper_session_into(database_url)
    paper = got["outcome"].paper
    assert got["outcome"].parity.identical
    assert len(paper.orders) > 5
    stored = {row.client_order_id: row for row in got["orders"]}
    assert set(stored) == {r.order.client_order_id for r in paper.orders}
    for record in paper.orders:
        row = stored[record.order.client_order_id]
        assert (row.status, row.filled_quantity) == (record.status.value, record.filled_quantity)
        assert row.fill_price == record.fill_price
    # its history starts with the row written before the broker call
    assert got["history"][0].status == "pending_submit"
    net = {p.symbol: p.quantity for p in got["book"].net if p.quantity}
    assert net == paper.final_positions


def test_with_the_database_gone_no_order_is_sent_and_each_is_refused(database_url: str) -> None:
    got = _paper_session_into(database_url, down_after=2)
    paper = got["outcome"].paper
    sent = [r for r in paper.orders if r.code != "JOURNAL_UNAVAILABLE"]
    refused = [r for r in paper.orders if r.code == "JOURNAL_UNAVAILABLE"]
    assert len(sent) == 2
    assert refused
    assert all(r.filled_quantity == Decimal(0) for r in refused)
    assert len(paper.fills) == sum(1 for r in sent if r.filled_quantity)
    assert len(got["orders"]) == 2  # only what was written down was sent
