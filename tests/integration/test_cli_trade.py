"""`quant trade --mode paper`: a replay through the bus and the database, checked for parity."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import create_async_engine

from quant_db.schema import Order, Position, Run, Strategy
from quant_db.schema.execution import Reconciliation, ReconciliationState
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_db.settings import get_settings
from tests.unit.cli.test_cli import MOMENTUM, quant

CONFIGS = Path(MOMENTUM).parent


@pytest.fixture
def platform(database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def _sql(url: str, statement: object, *, write: bool = False) -> object:
    async def main() -> object:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(statement)  # type: ignore[arg-type]
                return None if write else result.all()
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _register(url: str, mode: Mode) -> None:
    _sql(
        url,
        insert(Strategy).values(id="momentum_v1", class_path="x:Y", config={}, mode=mode),
        write=True,
    )


def test_a_paper_session_over_a_replay_is_stored_and_identical_to_its_backtest(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    _register(platform, Mode.PAPER)
    code, out, err = quant(
        capsys,
        monkeypatch,
        "trade",
        MOMENTUM,
        "--mode",
        "paper",
        "--replay",
        "2014-01-01..2018-12-31",
    )
    assert (code, err) == (0, ""), out
    assert "stored in the database" in out
    assert "parity with the backtest of the same bars: identical" in out
    [(run_id, status)] = _sql(platform, select(Run.id, Run.status).where(Run.type == RunType.PAPER))  # type: ignore[misc]
    assert status is RunStatus.COMPLETED
    [(orders,)] = _sql(
        platform, select(func.count()).select_from(Order).where(Order.run_id == run_id)
    )  # type: ignore[misc]
    assert orders > 5
    marked = _sql(
        platform, select(Position.symbol, Position.last_price).where(Position.run_id == run_id)
    )
    assert marked  # the session traded SP500: its position row is valued at the last close
    assert all(price is not None and price > 0 for _, price in marked)  # type: ignore[attr-defined]
    # checked against the paper broker before its first order, and found clean
    assert _sql(platform, select(Reconciliation.account, Reconciliation.state)) == [
        ("paper", ReconciliationState.CLEAN)
    ]


def test_a_strategy_not_moved_to_paper_is_refused_and_nothing_is_stored(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(platform, Mode.BACKTEST)
    code, _, err = quant(
        capsys, monkeypatch, "trade", MOMENTUM, "--replay", "2014-01-01..2014-12-31"
    )
    assert code == 2
    assert err.strip().splitlines() == [
        "error: mode: momentum_v1 is in BACKTEST mode: move it to PAPER first (its page on the "
        "dashboard, or POST /v1/controls/mode-transition)"
    ]
    assert _sql(platform, select(Run.id).where(Run.type == RunType.PAPER)) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--replay", "2014..2015"], "error: --replay: '2014..2015' is not FROM..TO"),
        (["--replay", "2015-01-01..2014-01-01"], "error: --replay: 2015-01-01 is after 2014-01-01"),
        (["--replay", "2014-01-01..2014-12-31", "--mode", "live"], "error: --mode: 'live'"),
        (["--replay", "2014-01-01..2014-12-31", "--speed", "warp"], "error: speed:"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    args: list[str],
    expected: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = quant(capsys, monkeypatch, "trade", MOMENTUM, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(expected)


def test_reconcile_status_says_when_no_account_was_checked_and_then_the_state(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = quant(capsys, monkeypatch, "reconcile", "status")
    assert (code, out.strip()) == (
        0,
        "no account was ever checked (no order may be sent for an unchecked account)",
    )
    _register(platform, Mode.PAPER)
    quant(capsys, monkeypatch, "trade", MOMENTUM, "--replay", "2016-01-01..2016-12-31")
    code, out, _ = quant(capsys, monkeypatch, "reconcile", "status")
    assert code == 0
    assert out.startswith("paper: clean (checked ")


def _with_budget(folder: Path, name: str, budget: int) -> str:
    path = folder / f"{name}.yaml"
    text = (CONFIGS / f"{name}.yaml").read_text()
    path.write_text(f"{text}\nbudget: {budget}\n")
    return str(path)


def test_two_strategies_share_the_paper_account_within_their_budgets_each_as_its_backtest(
    platform: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    for strategy in ("momentum_v1", "buy_and_hold"):
        _sql(
            platform,
            insert(Strategy).values(id=strategy, class_path="x:Y", config={}, mode=Mode.PAPER),
            write=True,
        )
    code, out, err = quant(
        capsys,
        monkeypatch,
        "trade",
        _with_budget(tmp_path, "momentum_v1", 60_000),
        _with_budget(tmp_path, "buy_and_hold", 40_000),
        "--replay",
        "2015-01-01..2016-12-31",
    )
    assert (code, err) == (0, ""), out
    assert out.count("parity with the backtest of the same bars: identical") == 2, out
    books = _sql(
        platform,
        select(Position.strategy_id, Position.quantity, Position.avg_price).where(
            Position.quantity != 0
        ),
    )
    held = {strategy: quantity * price for strategy, quantity, price in books}  # type: ignore[misc]
    assert "buy_and_hold" in held  # attributed to its own book
    assert held["buy_and_hold"] <= 40_000  # which was funded with its budget


def test_budgets_that_do_not_fit_the_account_are_refused_before_anything_is_stored(
    platform: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = quant(
        capsys,
        monkeypatch,
        "trade",
        _with_budget(tmp_path, "momentum_v1", 80_000),
        _with_budget(tmp_path, "buy_and_hold", 80_000),
        "--replay",
        "2015-01-01..2015-12-31",
    )
    assert code == 2
    assert "momentum_v1" in err
    assert "buy_and_hold" in err
    assert _sql(platform, select(Run.id).where(Run.type == RunType.PAPER)) == []
