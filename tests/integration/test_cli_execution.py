"""`quant execution run` and `quant data replay` as the two processes `quant up` starts: a strategy
in PAPER mode trades the replayed bars, stored step by step; SIGTERM closes its session."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from quant_backtest.runner import load_frames, run_engine
from quant_db.run_trades import StoredRun, load_run_trades
from quant_db.schema import EquityPoint, Fill, Order, Run, Strategy
from quant_db.schema.execution import Reconciliation
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_db.settings import get_settings
from quant_domain import OrderStatus
from quant_engine import BacktestConfig
from quant_engine.parity import compare, facts_of
from quant_marketdata import SampleSource
from quant_strategy import load_strategy_config
from tests.unit.cli.test_cli import MOMENTUM, quant

QUANT = str(Path(sys.executable).parent / "quant")


@pytest.fixture
def platform(database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def _scalar(url: str, statement: object) -> object:
    async def main() -> object:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(statement)).scalar()  # type: ignore[call-overload]
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _register_in_paper(url: str) -> None:
    config = load_strategy_config(Path(MOMENTUM))

    async def main() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    insert(Strategy).values(
                        id=config.id,
                        class_path=config.class_path,
                        config=config.model_dump(mode="json", by_alias=True),
                        mode=Mode.PAPER,
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(main())


def _wait(check: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_the_execution_service_trades_a_replayed_feed_and_closes_its_session_on_sigterm(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _register_in_paper(platform)
    service = subprocess.Popen(
        [
            QUANT,
            "execution",
            "run",
            "--feed",
            "cli-test",
            "--feed-kind",
            "replay",
            "--data",
            "samples",
            "--poll",
            "0.1",
        ],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # the session is announced (reconciled, its consumer group created) before it trades
        checked = select(func.count()).select_from(Reconciliation)
        _wait(lambda: _scalar(platform, checked) == 1)
        code, out, err = quant(
            capsys,
            monkeypatch,
            "data",
            "replay",
            "2015-01-01..2015-12-31",
            "--symbols",
            "SP500",
            "--data",
            "samples",
            "--feed",
            "cli-test",
        )
        assert code == 0, err
        steps = int(out.split("published ")[1].split()[0])
        assert steps > 200
        run_id = _scalar(platform, select(Run.id).where(Run.type == RunType.PAPER))
        stored = select(func.count()).select_from(EquityPoint).where(EquityPoint.run_id == run_id)
        _wait(lambda: _scalar(platform, stored) == steps)
    finally:
        service.send_signal(signal.SIGTERM)
        _, log = service.communicate(timeout=60)
        print(log)  # shown when the test fails
    assert service.returncode == 0, log
    assert "trading replay feed 'cli-test'" in log  # --feed-kind: no live feed health is read
    assert _scalar(platform, select(Run.status).where(Run.id == run_id)) is RunStatus.COMPLETED
    assert (
        _scalar(platform, select(Run.message).where(Run.id == run_id))
        == "the execution service stopped"
    )
    orders = select(func.count()).select_from(Order).where(Order.run_id == run_id)
    assert _scalar(platform, orders) >= 1  # type: ignore[operator]


def test_a_replay_of_an_unknown_symbol_is_refused_with_one_line(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = quant(
        capsys,
        monkeypatch,
        "data",
        "replay",
        "2015-01-01..2015-12-31",
        "--symbols",
        "NOPE",
        "--data",
        "samples",
    )
    assert code == 2
    assert err.strip() == "error: --symbols: NOPE not in samples"


def _service() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            QUANT,
            "execution",
            "run",
            "--feed",
            "cli-test",
            "--feed-kind",
            "replay",
            "--data",
            "samples",
            "--poll",
            "0.1",
        ],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _replay(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, span: str) -> int:
    code, out, err = quant(
        capsys,
        monkeypatch,
        "data",
        "replay",
        span,
        "--symbols",
        "SP500",
        "--data",
        "samples",
        "--feed",
        "cli-test",
    )
    assert code == 0, err
    return int(out.split("published ")[1].split()[0])


def test_a_session_killed_with_the_service_is_rebuilt_at_restart_and_trades_as_its_backtest(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _register_in_paper(platform)
    first = _service()
    checked = select(func.count()).select_from(Reconciliation)
    _wait(lambda: _scalar(platform, checked) == 1)
    half = _replay(capsys, monkeypatch, "2015-01-01..2015-06-30")
    run_id = _scalar(platform, select(Run.id).where(Run.type == RunType.PAPER))
    stored = select(func.count()).select_from(EquityPoint).where(EquityPoint.run_id == run_id)
    _wait(lambda: _scalar(platform, stored) >= half // 2)  # type: ignore[operator]
    first.kill()  # SIGKILL, mid-replay: its run stays RUNNING, some bars unacknowledged
    first.communicate(timeout=30)
    second = _service()
    try:
        _wait(lambda: _scalar(platform, stored) == half)  # the rest of the first half, resumed
        rest = _replay(capsys, monkeypatch, "2015-07-01..2015-12-31")
        _wait(lambda: _scalar(platform, stored) == half + rest)
    finally:
        second.send_signal(signal.SIGTERM)
        _, log = second.communicate(timeout=60)
        print(log)  # shown when the test fails
    assert second.returncode == 0, log
    assert "resumes after" in log
    assert _scalar(platform, select(func.count()).select_from(Run)) == 1  # the same session
    # the same orders and fills, to the cent, as the backtest of the year with the same warm-up
    config = load_strategy_config(Path(MOMENTUM))
    bt = BacktestConfig(start=date(2015, 1, 1), end=date(2015, 12, 31), warmup_bars=50)
    frames, _ = load_frames(config, SampleSource(), bt)
    backtest = run_engine(config, frames, bt, calendar="XNYS", account="paper")
    report = compare(_stored(platform, run_id), facts_of(backtest), "paper", "backtest")
    assert report.identical, report.summary()
    assert len(backtest.orders) >= 2


def _stored(url: str, run_id: object) -> StoredRun:
    async def main() -> StoredRun:
        engine = create_async_engine(url)
        try:
            async with AsyncSession(engine) as session:
                stored = await load_run_trades(session, run_id)  # type: ignore[arg-type]
                assert stored is not None
                return stored
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_after_a_sigkill_and_a_restart_the_first_order_is_refused_by_the_persisted_kill_switch(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANT_PASSWORD", "ops password long enough 1")
    code, _, err = quant(
        capsys, monkeypatch, "users", "create", "--username", "ops", "--role", "admin"
    )
    assert code == 0, err
    _register_in_paper(platform)
    first = _service()
    checked = select(func.count()).select_from(Reconciliation)
    _wait(lambda: _scalar(platform, checked) == 1)
    code, _, err = quant(
        capsys,
        monkeypatch,
        "kill-switch",
        "set-mode",
        "halt_entries",
        "--reason",
        "drill: entries stop",
        "--user",
        "ops",
    )
    assert code == 0, err
    half = _replay(capsys, monkeypatch, "2015-01-01..2015-06-30")
    run_id = _scalar(platform, select(Run.id).where(Run.type == RunType.PAPER))
    stored = select(func.count()).select_from(EquityPoint).where(EquityPoint.run_id == run_id)
    _wait(lambda: _scalar(platform, stored) >= half // 2)  # type: ignore[operator]
    first.kill()
    first.communicate(timeout=30)
    second = _service()
    try:
        _wait(lambda: _scalar(platform, stored) == half)
        rest = _replay(capsys, monkeypatch, "2015-07-01..2015-12-31")
        _wait(lambda: _scalar(platform, stored) == half + rest)
    finally:
        second.send_signal(signal.SIGTERM)
        _, log = second.communicate(timeout=60)
        print(log)
    after_restart = (
        select(Order.status, Order.code)
        .where(Order.run_id == run_id, Order.submitted_at >= datetime(2015, 7, 1, tzinfo=UTC))
        .order_by(Order.submitted_at)
        .limit(1)
    )
    assert _row(platform, after_restart) == (OrderStatus.REJECTED, "HALT_ENTRIES")
    fills = select(func.count()).select_from(Fill).where(Fill.run_id == run_id)
    assert _scalar(platform, fills) == 0  # not one entry got through, before or after


def _row(url: str, statement: object) -> tuple[object, ...]:
    async def main() -> tuple[object, ...]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                row = (await connection.execute(statement)).one()  # type: ignore[call-overload]
                return tuple(row)
        finally:
            await engine.dispose()

    return asyncio.run(main())
