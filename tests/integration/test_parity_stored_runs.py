"""`quant parity RUN_A RUN_B` over runs stored in PostgreSQL: a paper session replayed through the
bus against the worker's backtest of the same bars, and planted differences, each named."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import create_async_engine

from quant_backtest.worker import RunExecutor
from quant_db.schema import EquityPoint, Fill, Order, Run, Strategy
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_db.settings import get_settings
from quant_engine import BacktestConfig
from quant_strategy import load_strategy_config
from tests.unit.cli.test_cli import MOMENTUM, quant

FIRST, LAST = date(2014, 1, 1), date(2018, 12, 31)


@pytest.fixture
def platform(database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    _sql(
        database_url,
        insert(Strategy).values(id="momentum_v1", class_path="x:Y", config={}, mode=Mode.PAPER),
    )
    yield database_url
    get_settings.cache_clear()


def _sql(url: str, *statements: object) -> list[object]:
    async def main() -> list[object]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                out: list[object] = []
                for statement in statements:
                    result = await connection.execute(statement)  # type: ignore[call-overload]
                    out.append(result.all() if result.returns_rows else None)
                return out
        finally:
            await engine.dispose()

    return asyncio.run(main())


def stored_backtest(url: str, config_path: str = MOMENTUM) -> uuid.UUID:
    """A backtest of `config_path` over FIRST..LAST, queued and run by the worker's executor."""
    config = load_strategy_config(Path(config_path))
    bt = BacktestConfig(start=FIRST, end=LAST, seed=config.seed)
    run_id = uuid.uuid4()
    _sql(
        url,
        insert(Run).values(
            id=run_id,
            strategy_id=config.id,
            type=RunType.BACKTEST,
            status=RunStatus.QUEUED,
            config=config.model_dump(mode="json", by_alias=True),
            backtest_config=bt.model_dump(mode="json"),
        ),
    )
    assert asyncio.run(RunExecutor(url).execute(run_id)) == "completed"
    return run_id


def _orders(url: str, run_id: uuid.UUID) -> list[tuple[str, object]]:
    [rows] = _sql(
        url,
        select(Order.client_order_id, Order.submitted_at)
        .where(Order.run_id == run_id, Order.status == "filled")
        .order_by(Order.submitted_at),
    )
    return rows  # type: ignore[return-value]


def _counts(summary: str) -> dict[str, int]:
    return {kind: int(n) for kind, n in re.findall(r"([a-z][a-z ]+?) (\d+)(?=,|;|$)", summary)}


def test_a_paper_replay_is_identical_to_the_stored_backtest_of_the_same_bars_until_a_fill_moves(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    span = f"{FIRST}..{LAST}"
    code, out, err = quant(capsys, monkeypatch, "trade", MOMENTUM, "--replay", span)
    assert (code, err) == (0, ""), out
    [[(paper,)]] = _sql(platform, select(Run.id).where(Run.type == RunType.PAPER))  # type: ignore[misc]
    backtest = stored_backtest(platform)
    capsys.readouterr()  # the worker's log lines

    code, out, err = quant(capsys, monkeypatch, "parity", str(paper), str(backtest))
    assert (code, err) == (0, ""), out
    head = out.splitlines()[0]
    assert head.startswith(f"paper {str(paper)[:8]} against backtest {str(backtest)[:8]}: ")
    assert re.search(r": identical: (\d+) orders, final equity [\d.]+$", head), head
    orders = int(re.findall(r"identical: (\d+) orders", head)[0])
    assert orders > 5
    # the paper session keeps no equity series yet: said, not guessed
    assert f"note: paper {str(paper)[:8]} stored no steps" in out

    cid, _ = _orders(platform, backtest)[2]
    _sql(
        platform,
        update(Fill)
        .where(Fill.run_id == backtest, Fill.client_order_id == cid)
        .values(price=Fill.price + 0.05),
        update(Order)
        .where(Order.run_id == backtest, Order.client_order_id == cid)
        .values(fill_price=Order.fill_price + 0.05),
    )
    code, out, _ = quant(capsys, monkeypatch, "parity", str(paper), str(backtest))
    assert code == 1
    head, *rest = out.splitlines()
    [first] = [line for line in rest if not line.startswith("note: ")]
    assert head.endswith(f": 1 differences over {orders} orders: different fill price 1")
    assert "different fill price" in first
    paid, charged = (Decimal(p) for p in re.findall(r": ([\d.]+)(?:;|$)", first))
    assert charged - paid == Decimal("0.05")  # the backtest's price, five cents up


def test_each_planted_difference_between_two_stored_backtests_is_attributed(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = stored_backtest(platform), stored_backtest(platform)
    capsys.readouterr()
    code, out, _ = quant(capsys, monkeypatch, "parity", str(a), str(b))
    assert code == 0, out
    assert "identical: " in out.splitlines()[0]
    assert "note:" not in out  # both stored their steps and their equity

    filled = _orders(platform, b)
    (moved, _), (refused, _), (flipped, _), (gone, gone_at) = (
        filled[1],
        filled[3],
        filled[5],
        filled[7],
    )
    _sql(
        platform,
        update(Fill).where(Fill.run_id == b, Fill.client_order_id == moved).values(price=1),
        update(Order).where(Order.run_id == b, Order.client_order_id == moved).values(fill_price=1),
        delete(Fill).where(Fill.run_id == b, Fill.client_order_id == refused),
        update(Order)
        .where(Order.run_id == b, Order.client_order_id == refused)
        .values(
            status="rejected",
            filled_quantity=0,
            fill_price=None,
            code="POSITION_QTY_CAP",
            reason="over the position cap",
        ),
        update(Order)
        .where(Order.run_id == b, Order.client_order_id == flipped)
        .values(quantity=Order.quantity + 1, filled_quantity=Order.filled_quantity + 1),
        # the bar of an order is missing in b, and so is the order decided on it
        delete(Order).where(Order.run_id == b, Order.client_order_id == gone),
        delete(EquityPoint).where(EquityPoint.run_id == b, EquityPoint.ts == gone_at),
    )
    code, out, err = quant(capsys, monkeypatch, "parity", str(a), str(b), "--show", "50")
    assert (code, err) == (1, "")
    head, *lines = out.splitlines()
    assert _counts(head.split(" orders: ", 1)[1]) == {
        "different fill price": 1,
        "rejected": 1,
        "different decision": 1,
        "missed bar": 2,
    }
    assert len(lines) == 5, out
    named = f"backtest {str(b)[:8]}"
    assert f"rejected: SP500 {refused}: {named}: POSITION_QTY_CAP (over the position cap)" in out
    assert any(f"different decision: SP500 {flipped}" in line for line in lines)
    assert sum("missed bar" in line and "has no step at" in line for line in lines) == 2


def test_unknown_and_malformed_run_ids_exit_2_with_one_line_naming_which(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nobody = uuid.uuid4()
    [[(some,)]] = _sql(
        platform,
        insert(Run)
        .values(strategy_id="momentum_v1", type=RunType.BACKTEST, config={})
        .returning(Run.id),
    )  # type: ignore[misc]
    code, _, err = quant(capsys, monkeypatch, "parity", str(some), str(nobody))
    assert (code, err) == (2, f"error: RUN_B: no run {nobody}\n")
    code, _, err = quant(capsys, monkeypatch, "parity", "not-a-run", str(some))
    assert (code, err) == (2, "error: RUN_A: 'not-a-run' is not a run id (a UUID)\n")
