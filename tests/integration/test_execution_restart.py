"""SIGKILL the execution service while a strategy trades on a real broker (the local Alpaca and
TWS servers, the real adapters), start it again: the session is taken up in the same run, the
order accepted before the crash is found by its client order id and never sent again, its fill
while the service was down is recovered, the account reconciles with no order placed, and the
strategy trades on (ADR 0042). Real PostgreSQL and Valkey; the service is `quant execution run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from quant_bus.redis_bus import RedisBus
from quant_bus.streams import BARS_CLOSED, dead_letter_stream
from quant_db.schema import Fill, Order, Run, Strategy
from quant_db.schema.execution import Reconciliation
from quant_db.schema.runs import Mode, RunStatus
from quant_db.settings import get_settings
from quant_ingestion.bar_stream import publish_replay
from quant_marketdata import SyntheticSource
from quant_strategy import StrategyConfig
from tests.fakes.alpaca_broker import KEY_ID, SECRET_KEY, FakeAlpacaBroker
from tests.fakes.tws import FakeTws

QUANT = str(Path(sys.executable).parent / "quant")
ROOT = Path(__file__).resolve().parents[2]
FEED = "restart-test"
SPEC = "synthetic:seed=5,symbols=1,bars=60,timeframe=1m,decimals=2"
SOURCE = SyntheticSource(seed=5, n_symbols=1, n_bars=60, timeframe="1m", decimals=2)
SYMBOL = SOURCE.symbols()[0]


def strategy(strategy_id: str = "flip_restart", **more: Any) -> StrategyConfig:
    """Long when flat, flat when long: one market order per step."""
    return StrategyConfig.model_validate(
        {
            "id": strategy_id,
            "class": "tests.integration.monitoring.order_path:Flip",
            "universe": [SYMBOL],
            "timeframe": "1m",
            **more,
        }
    )


@pytest.fixture
def platform(database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    client = redis.Redis.from_url(redis_url)
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    client.close()


def _db(url: str, statement: Any, *, all_rows: bool = False) -> Any:
    async def main() -> Any:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(statement)
                if all_rows:
                    return result.all()
                return None if not result.returns_rows else result.scalar()
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _register(url: str, *configs: StrategyConfig, mode: Mode = Mode.PAPER) -> None:
    for config in configs:
        _db(
            url,
            insert(Strategy).values(
                id=config.id,
                class_path=config.class_path,
                config=config.model_dump(mode="json", by_alias=True),
                mode=mode,
            ),
        )


def _wait(check: Callable[[], Any], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


def _service(account: str, kind: str, env: dict[str, str]) -> subprocess.Popen[str]:
    # the bars are published by the test, not by a live data service: a replay (ADR 0041)
    command = [QUANT, "execution", "run", "--feed", FEED, "--feed-kind", "replay"]
    command += ["--data", SPEC, "--poll", "0.1"]
    command += ["--account", account, "--broker", kind, "--settle", "1", "--metrics-port", "0"]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _publish(redis_url: str, step: int) -> None:
    """The feed's `step`-th bar of the symbol, published as the data service would."""

    async def main() -> None:
        bus = RedisBus.from_url(redis_url)
        try:
            frame = SOURCE.get_bars(SYMBOL).iloc[[20 + step]]
            await publish_replay(bus, {SYMBOL: frame}, source=FEED, timeframe="1m")
        finally:
            await bus.close()

    asyncio.run(main())


def _stop(service: subprocess.Popen[str]) -> str:
    if service.poll() is None:
        service.send_signal(signal.SIGTERM)
    _, log = service.communicate(timeout=60)
    return log


@dataclass
class Venue:
    """One local broker server, as the restart spec drives it."""

    account: str
    kind: str
    env: dict[str, str]
    orders_placed: Callable[[], int]
    set_price: Callable[[str, float], None]
    position: Callable[[str], float]
    lookups: Callable[[], int] | None = None  # lookups of an order by its client order id
    trade_by_hand: Callable[[str, int], None] = lambda symbol, quantity: None
    """Someone else buys on the account (not through us)."""


@contextlib.contextmanager
def venue(kind: str) -> Iterator[Venue]:
    if kind == "alpaca":
        with FakeAlpacaBroker() as fake:
            yield Venue(
                "alpaca-paper",
                "alpaca",
                {
                    "APCA_API_KEY_ID": KEY_ID,
                    "APCA_API_SECRET_KEY": SECRET_KEY,
                    "QUANT_ALPACA_BROKER_TRADING_URL": fake.url,
                    "QUANT_ALPACA_BROKER_STREAM_URL": fake.stream_url,
                },
                lambda: sum(1 for r in fake.requests if r == ("POST", "/v2/orders")),
                lambda symbol, price: fake.set_price(symbol, str(price)),
                lambda symbol: float(fake.book.positions.get(symbol, (Decimal(0), 0))[0]),
                lambda: sum(1 for _, path in fake.requests if path.endswith(":by_client_order_id")),
                lambda symbol, quantity: fake.book.submit(
                    {
                        "symbol": symbol,
                        "side": "buy",
                        "type": "market",
                        "time_in_force": "day",
                        "qty": str(quantity),
                        "client_order_id": "by-hand-1",
                    }
                ),
            )
    else:
        tws = FakeTws().start()
        try:
            yield Venue(
                "ib-paper",
                "ib",
                {"QUANT_IB_PORT": str(tws.port), "QUANT_IB_REQUEST_TIMEOUT": "2"},
                lambda: len(tws.placed),
                tws.set_price,
                lambda symbol: tws.positions().get(symbol, 0.0),
            )
        finally:
            tws.stop()


def _orders(url: str) -> list[Any]:
    return list(
        _db(
            url,
            select(Order.client_order_id, Order.status, Order.side, Order.filled_quantity).order_by(
                Order.id
            ),
            all_rows=True,
        )
    )


def _check(url: str, account: str) -> tuple[str, Any] | None:
    """The account's latest reconciliation: its state and when it was checked."""
    rows = _db(
        url,
        select(Reconciliation.state, Reconciliation.checked_at).where(
            Reconciliation.account == account
        ),
        all_rows=True,
    )
    return None if not rows else (rows[0][0], rows[0][1])


@pytest.mark.parametrize("kind", ["alpaca", "ib"])
def test_a_killed_execution_service_takes_its_session_up_finds_the_order_by_id_and_trades_on(
    kind: str, platform: str, redis_url: str
) -> None:
    url = platform
    _register(url, strategy())
    with venue(kind) as broker:
        first = _service(broker.account, broker.kind, broker.env)
        try:
            _wait(lambda: _check(url, broker.account), what="the first reconciliation")
            before = _check(url, broker.account)
            assert before is not None
            assert before[0] == "clean"
            # no price at the broker yet: the market buy is accepted and stays working
            _publish(redis_url, 0)
            _wait(
                lambda: [o.status for o in _orders(url)] == ["accepted"],
                what="the first order accepted",
            )
        finally:
            first.kill()  # SIGKILL: no session closed, the order still working at the broker
            first_log = first.communicate(timeout=30)[1]
            print(first_log)  # shown when the test fails
        ((cid, _, side, _),) = _orders(url)
        assert side == "buy"
        assert broker.orders_placed() == 1
        broker.set_price(SYMBOL, 100.0)  # it fills while no service runs
        _wait(lambda: broker.position(SYMBOL) > 0, what="the fill at the broker")
        held = broker.position(SYMBOL)
        lookups = broker.lookups() if broker.lookups else 0

        second = _service(broker.account, broker.kind, broker.env)
        try:
            _wait(
                lambda: _check(url, broker.account) not in (None, before),
                timeout=90,
                what="the restart's reconciliation",
            )
            assert _check(url, broker.account)[0] == "clean"  # type: ignore[index]
            # found by its client order id, its fill recovered, nothing placed
            assert _orders(url) == [(cid, "filled", "buy", Decimal(str(held)))]
            assert broker.orders_placed() == 1
            if broker.lookups is not None:
                assert broker.lookups() > lookups
            fills = _db(url, select(func.sum(Fill.quantity)).where(Fill.client_order_id == cid))
            assert fills == Decimal(str(held))
            # and it trades on: long now, so the next bar sells
            _publish(redis_url, 1)
            _wait(lambda: len(_orders(url)) == 2, what="the order after the restart")
            _wait(lambda: _orders(url)[1][1] == "filled", what="the sell filled")
            assert broker.orders_placed() == 2
            assert _orders(url)[1][0] != cid  # a new client order id, never the old one
            assert broker.position(SYMBOL) == 0
        finally:
            log = _stop(second)
            print(log)  # shown when the test fails
    assert second.returncode == 0, log
    runs = _db(url, select(Run.id, Run.status, Run.repro), all_rows=True)
    assert len(runs) == 1  # the same run, taken up
    assert runs[0].status is RunStatus.COMPLETED
    assert len(runs[0].repro["taken_up"]) == 1
    assert "taken up" in log or "resumes after" in log


def test_an_account_changed_by_hand_while_the_service_was_down_blocks_the_taken_up_session(
    platform: str, redis_url: str
) -> None:
    url = platform
    _register(url, strategy())
    with venue("alpaca") as broker:
        broker.set_price(SYMBOL, 100.0)
        first = _service(broker.account, broker.kind, broker.env)
        try:
            _wait(lambda: _check(url, broker.account), what="the first reconciliation")
            _publish(redis_url, 0)
            _wait(lambda: [o.status for o in _orders(url)] == ["filled"], what="the first fill")
        finally:
            first.kill()
            print(first.communicate(timeout=30)[1])  # shown when the test fails
        before = _check(url, broker.account)
        broker.trade_by_hand(SYMBOL, 3)  # someone buys 3 more on the account meanwhile
        second = _service(broker.account, broker.kind, broker.env)
        try:
            _wait(
                lambda: _check(url, broker.account) != before,
                timeout=90,
                what="the restart's reconciliation",
            )
            assert _check(url, broker.account)[0] == "blocked"  # type: ignore[index]
            placed = broker.orders_placed()
            _publish(redis_url, 1)  # it decides to sell; the gate refuses until an admin acts
            _wait(lambda: len(_orders(url)) == 2, what="the refused order")
            assert _orders(url)[1][1] == "rejected"
            assert broker.orders_placed() == placed  # nothing reached the broker
        finally:
            log = _stop(second)
            print(log)  # shown when the test fails
    assert second.returncode == 0, log
    assert "every order is refused until an admin resolves it" in log


def test_two_strategies_on_one_broker_account_each_reconcile_clean_against_their_summed_books(
    platform: str, redis_url: str
) -> None:
    url = platform
    one = strategy(budget=40_000)  # two books on one account: each its share of the capital
    two = strategy("flip_second", budget=40_000)
    _register(url, one)
    with venue("alpaca") as broker:
        broker.set_price(SYMBOL, 100.0)
        service = _service(broker.account, broker.kind, broker.env)
        try:
            _wait(lambda: _check(url, broker.account), what="the first reconciliation")
            _publish(redis_url, 0)  # the first strategy buys: the account holds its position
            _wait(lambda: [o.status for o in _orders(url)] == ["filled"], what="the first fill")
            first = _check(url, broker.account)
            held = broker.position(SYMBOL)
            assert held > 0
            # a second strategy on the same account starts: the account holds the first one's
            # position, which its own books lack; summed with the first's books it is clean
            _register(url, two)
            _wait(lambda: _check(url, broker.account) != first, what="the second's check")
            assert _check(url, broker.account)[0] == "clean"  # type: ignore[index]
            _publish(redis_url, 1)  # both trade: the first sells, the second buys
            _wait(
                lambda: [o.status for o in _orders(url)] == ["filled"] * 3,
                what="both strategies' orders filled",
            )
            rows = _db(url, select(Order.strategy_id, Order.side), all_rows=True)
            assert sorted(map(tuple, rows)) == [
                ("flip_restart", "buy"),
                ("flip_restart", "sell"),
                ("flip_second", "buy"),
            ]
            assert broker.orders_placed() == 3
        finally:
            log = _stop(service)
            print(log)  # shown when the test fails
    assert service.returncode == 0, log
    assert "every order is refused until an admin resolves it" not in log


def test_two_strategies_on_one_account_are_both_taken_up_clean_after_a_sigkill(
    platform: str, redis_url: str
) -> None:
    url = platform
    _register(url, strategy(budget=40_000), strategy("flip_second", budget=40_000))
    with venue("alpaca") as broker:
        broker.set_price(SYMBOL, 100.0)
        first = _service(broker.account, broker.kind, broker.env)
        try:
            _wait(lambda: len(_db(url, select(Run.id), all_rows=True)) == 2, what="two runs")
            _wait(lambda: _check(url, broker.account), what="the first reconciliation")
            _publish(redis_url, 0)  # both buy: the account holds the two positions summed
            _wait(lambda: [o.status for o in _orders(url)] == ["filled"] * 2, what="two fills")
        finally:
            first.kill()
            print(first.communicate(timeout=30)[1])  # shown when the test fails
        held = broker.position(SYMBOL)
        before = _check(url, broker.account)

        def both_taken_up() -> bool:
            runs = _db(url, select(Run.id, Run.repro), all_rows=True)
            if not all("taken_up" in run.repro for run in runs):
                return False
            last = max(runs, key=lambda run: run.repro["taken_up"][-1])
            checked = _db(url, select(Reconciliation.run_id), all_rows=True)
            return _check(url, broker.account) != before and checked[0][0] == last.id

        second = _service(broker.account, broker.kind, broker.env)
        try:
            _wait(both_taken_up, timeout=90, what="both sessions taken up")
            # each compared the account (both positions) with both books: clean, not blocked
            assert _check(url, broker.account)[0] == "clean"  # type: ignore[index]
            assert broker.orders_placed() == 2
            _publish(redis_url, 1)  # both long: both sell, neither refused
            _wait(
                lambda: (
                    [(o.side, o.status) for o in _orders(url)]
                    == [("buy", "filled")] * 2 + [("sell", "filled")] * 2
                ),
                what="both sells filled",
            )
            assert broker.orders_placed() == 4
            assert broker.position(SYMBOL) == 0 < held
        finally:
            log = _stop(second)
            print(log)  # shown when the test fails
    assert second.returncode == 0, log
    assert "every order is refused until an admin resolves it" not in log


@pytest.mark.parametrize("kind", ["alpaca", "ib"])
def test_an_order_still_working_when_the_service_comes_back_is_watched_and_its_fill_stored(
    kind: str, platform: str, redis_url: str
) -> None:
    url = platform
    _register(url, strategy())
    with venue(kind) as broker:
        first = _service(broker.account, broker.kind, broker.env)
        try:
            _wait(lambda: _check(url, broker.account), what="the first reconciliation")
            _publish(redis_url, 0)
            _wait(
                lambda: [o.status for o in _orders(url)] == ["accepted"],
                what="the first order accepted",
            )
        finally:
            first.kill()
            print(first.communicate(timeout=30)[1])  # shown when the test fails
        before = _check(url, broker.account)
        second = _service(broker.account, broker.kind, broker.env)
        try:
            _wait(
                lambda: _check(url, broker.account) != before,
                timeout=90,
                what="the restart's reconciliation",
            )
            # the broker still works the order, our books too: clean, nothing placed
            assert _check(url, broker.account)[0] == "clean"  # type: ignore[index]
            assert [o.status for o in _orders(url)] == ["accepted"]
            broker.set_price(SYMBOL, 100.0)  # it fills now, reported to the new adapter
            _publish(redis_url, 1)  # the next step applies the report before it decides
            # the fill is stored, and the strategy, long now, sells in that same step
            _wait(
                lambda: (
                    [(o.side, o.status) for o in _orders(url)]
                    == [("buy", "filled"), ("sell", "filled")]
                ),
                what="the fill stored and the position closed",
            )
            bought, sold = _orders(url)
            assert bought.filled_quantity == sold.filled_quantity > 0
            assert broker.orders_placed() == 2
            assert broker.position(SYMBOL) == 0
        finally:
            log = _stop(second)
            print(log)  # shown when the test fails
    assert second.returncode == 0, log
