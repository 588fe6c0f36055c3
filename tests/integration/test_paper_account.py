"""Two strategies paper-trade one symbol on one account: PostgreSQL keeps each one's orders, fills
and positions apart, the budget's refusals are stored with their code, and each strategy trades
exactly as its own backtest under its budget."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_backtest.runner import load_frames, run_engine, universe_calendar
from quant_db import oms_store
from quant_db.journal import PostgresJournal
from quant_db.schema import Fill, Order, Run, Strategy
from quant_db.schema.runs import RunStatus, RunType
from quant_domain import OrderSide
from quant_engine import BacktestConfig, build_timeline
from quant_engine.account import AccountSummary, PaperAccount, book_config
from quant_engine.parity import parity_report
from quant_marketdata import SampleSource
from quant_marketdata.replay import replay_steps
from quant_strategy import StrategyConfig, build_strategy, load_strategy_config
from tests.integration.conftest import TEMPLATE, admin, with_database

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "strategies" / "momentum_v1.yaml"
ACCOUNT = "paper"
BT = BacktestConfig(
    initial_capital=Decimal(100_000), start=date(2014, 1, 1), end=date(2016, 12, 31)
)


def _configs() -> list[StrategyConfig]:
    momentum = load_strategy_config(CONFIG).updated(benchmark=None, budget=Decimal(50_000))
    ladder = StrategyConfig.model_validate(
        {
            "id": "ladder",
            "class": "tests.spending_strategies:Ladder",
            "universe": ["SP500"],
            "params": {"units": 5, "every": 5, "sell_every": 60},
            "budget": 30_000,
        }
    )
    return [momentum, ladder]


async def _open_run(
    sessions: async_sessionmaker[AsyncSession], config: StrategyConfig
) -> uuid.UUID:
    async with sessions.begin() as db:
        db.add(Strategy(id=config.id, class_path=config.class_path, config={}))
        await db.flush()
        run = Run(strategy_id=config.id, type=RunType.PAPER, status=RunStatus.RUNNING, config={})
        db.add(run)
    return run.id


def _trade(account: PaperAccount, steps: list[Any]) -> tuple[AccountSummary, int]:
    """Feed every step; returns the summary before the end and the steps where both held SP500."""
    both_held = 0
    for now, bars in steps:
        account.on_bars(now, bars)
        held = [s.ledger.position("SP500") for s in account.sessions.values()]
        both_held += all(q > 0 for q in held)
    return account.summary(), both_held


def _paper_account_into(database_url: str) -> dict[str, Any]:
    configs = _configs()
    source = SampleSource()
    frames, _ = load_frames(configs[0], source, BT)
    calendar = universe_calendar(configs[0], source)
    instruments = {symbol: source.instrument(symbol) for symbol in frames}

    async def main() -> dict[str, Any]:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            runs = {config.id: await _open_run(sessions, config) for config in configs}
            loop = asyncio.get_running_loop()
            account = PaperAccount(
                [build_strategy(config) for config in configs],
                BT,
                account=ACCOUNT,
                calendar=calendar,
                daily=build_timeline(frames, calendar).daily,
                instruments=instruments,
                journals={sid: PostgresJournal(sessions, run, loop) for sid, run in runs.items()},
            )
            summary, both_held = await asyncio.to_thread(
                _trade, account, list(replay_steps(frames))
            )
            results = await asyncio.to_thread(account.close)
            stored: dict[str, Any] = {}
            async with sessions() as db:
                for sid, run in runs.items():
                    orders = (await db.scalars(select(Order).where(Order.run_id == run))).all()
                    fills = (
                        await db.execute(
                            select(Fill, Order.strategy_id)
                            .join(
                                Order,
                                (Order.run_id == Fill.run_id)
                                & (Order.client_order_id == Fill.client_order_id),
                            )
                            .where(Fill.run_id == run)
                        )
                    ).all()
                    book = await oms_store.positions(db, run)
                    stored[sid] = {"orders": orders, "fills": fills, "book": book}
            return {
                "account": account,
                "summary": summary,
                "both_held": both_held,
                "results": results,
                "stored": stored,
            }
        finally:
            await engine.dispose()

    got = asyncio.run(main())
    got["backtests"] = {
        config.id: run_engine(
            config,
            frames,
            book_config(BT, got["account"].allocation.budgets[config.id]),
            calendar=calendar,
            instruments=instruments,
            account=ACCOUNT,
        )
        for config in configs
    }
    return got


@pytest.fixture(scope="module")
def got(server_url: str, template_url: str) -> Iterator[dict[str, Any]]:
    """One paper session of the two strategies into a fresh database, for every test here."""
    del template_url  # the migrated template must exist first
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin(server_url, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    try:
        yield _paper_account_into(with_database(server_url, name))
    finally:
        admin(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_two_strategies_on_one_symbol_keep_their_own_books_in_postgresql(
    got: dict[str, Any],
) -> None:
    stored, results, summary = got["stored"], got["results"], got["summary"]
    assert got["both_held"] > 0  # the two books held the same symbol at the same time
    for sid in ("momentum_v1", "ladder"):
        rows = stored[sid]["book"].per_strategy
        assert [(p.strategy_id, p.symbol) for p in rows] == [(sid, "SP500")]
        assert {strategy for _, strategy in stored[sid]["fills"]} == {sid}
        from_fills = sum(
            (f.quantity if f.side == OrderSide.BUY.value else -f.quantity)
            for f, _ in stored[sid]["fills"]
        )
        assert rows[0].quantity == from_fills  # the position is the sum of its own fills
        assert rows[0].quantity == results[sid].final_positions.get("SP500", Decimal(0))
        assert len(stored[sid]["fills"]) == len(results[sid].fills) > 0
    # the account holds what the books hold together
    net = sum((stored[sid]["book"].per_strategy[0].quantity for sid in stored), Decimal(0))
    assert summary.positions.get("SP500", Decimal(0)) == net


def test_a_budget_refusal_is_stored_with_its_code_and_the_budget(got: dict[str, Any]) -> None:
    refused = [r for r in got["stored"]["ladder"]["orders"] if r.code == "BUDGET_CAP"]
    assert refused
    assert {r.status for r in refused} == {"rejected"}
    assert all("its budget is 30,000.00" in r.reason for r in refused)
    assert all(r.filled_quantity == 0 for r in refused)
    assert not [r for r in got["stored"]["momentum_v1"]["orders"] if r.code == "BUDGET_CAP"]


def test_each_strategy_trades_as_its_own_backtest_under_its_budget(got: dict[str, Any]) -> None:
    for sid, backtest in got["backtests"].items():
        paper = got["results"][sid]
        assert parity_report(paper, backtest).identical, sid
        stored = {row.client_order_id for row in got["stored"][sid]["orders"]}
        assert stored == {r.order.client_order_id for r in backtest.orders}
    summary = got["account"].summary()
    assert summary.unallocated == Decimal(20_000)
    assert summary.equity == Decimal(20_000) + sum(
        (r.final_equity for r in got["results"].values()), Decimal(0)
    )
