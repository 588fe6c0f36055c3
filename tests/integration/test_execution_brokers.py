"""The execution service on a real broker's adapter: which broker an account names, IB's
persisted client id and order-id floor, refusals when the broker cannot be used (nothing trades,
the reason is in describe()), LIVE only on a real broker, a live session that trades through its
adapter and announces its first live start without a key. Real PostgreSQL and Valkey."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_bus.redis_bus import RedisBus
from quant_bus.streams import BARS_CLOSED, dead_letter_stream
from quant_db.reconciliation import reconciliation_state
from quant_db.schema import Alert, Order, Run, Strategy
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_domain import BrokerUnavailable
from quant_domain.ports import LiveBroker
from quant_engine import BacktestConfig
from quant_execution.brokers import (
    BrokerRefused,
    BrokerRequest,
    account_brokers,
    broker_kind,
    build_broker,
    ib_client_id,
    ib_order_id_floor,
)
from quant_execution.service import ExecutionService
from quant_ingestion.bar_stream import publish_replay
from quant_marketdata import SyntheticSource
from quant_strategy import StrategyConfig
from tests.fakes.alpaca_broker import KEY_ID as FAKE_KEY_ID
from tests.fakes.alpaca_broker import SECRET_KEY as FAKE_SECRET_KEY
from tests.fakes.alpaca_broker import FakeAlpacaBroker
from tests.fakes.loopback_broker import LoopbackBroker

FEED = "replay:brokers"
SOURCE = SyntheticSource(seed=5, n_symbols=2, n_bars=60, timeframe="1m", decimals=2)


@pytest.fixture
def url(redis_url: str) -> Iterator[str]:
    client = redis.Redis.from_url(redis_url)
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    yield redis_url
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    client.close()


def config() -> StrategyConfig:
    return StrategyConfig.model_validate(
        {
            "id": "sma_live",
            "class": "quant_strategy.builtin.momentum:SmaCrossover",
            "universe": SOURCE.symbols(),
            "timeframe": "1m",
            "params": {"fast": 3, "slow": 8},
            "risk": {"max_position_pct": 0.25, "max_gross_exposure": 0.5},
        }
    )


async def until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


Scenario = Callable[[ExecutionService, async_sessionmaker[AsyncSession]], Awaitable[Any]]


def with_service(
    database_url: str, redis_url: str, mode: Mode, scenario: Scenario, **kw: Any
) -> Any:
    async def main() -> Any:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        bus = RedisBus.from_url(redis_url)
        strategy = config()
        async with sessions.begin() as db:
            db.add(
                Strategy(
                    id=strategy.id,
                    class_path=strategy.class_path,
                    config=strategy.model_dump(mode="json", by_alias=True),
                    mode=mode,
                )
            )
        service = ExecutionService(sessions, bus, SOURCE, feed=FEED, poll_s=0.05, block_ms=20, **kw)
        stop = asyncio.Event()
        running = asyncio.create_task(service.run(stop))
        try:
            await asyncio.wait_for(service.ready.wait(), timeout=30)
            return await scenario(service, sessions)
        finally:
            stop.set()
            await running
            await bus.close()
            await engine.dispose()

    return asyncio.run(main())


def test_account_brokers_names_a_kind_per_account_and_sim_by_default() -> None:
    env = {"QUANT_ACCOUNT_BROKERS": "paper=sim, live-1=alpaca,ib-acct=ib"}
    assert account_brokers(env) == {"paper": "sim", "live-1": "alpaca", "ib-acct": "ib"}
    assert broker_kind("live-1", env) == "alpaca"
    assert broker_kind("other", env) == "sim"
    with pytest.raises(ValueError, match="QUANT_ACCOUNT_BROKERS: 'x=binance'"):
        account_brokers({"QUANT_ACCOUNT_BROKERS": "x=binance"})


def test_build_broker_an_unknown_kind_is_refused_with_one_line() -> None:
    with pytest.raises(BrokerRefused, match="no adapter for broker kind 'binance'"):
        build_broker(BrokerRequest("binance", "paper", "execution-1/x"))


def test_ib_client_id_is_persisted_per_runner_and_the_floor_is_the_highest_stored_id(
    database_url: str,
) -> None:
    async def main() -> tuple[int, int, int, int, int]:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            first = await ib_client_id(sessions, "execution-1/a")
            second = await ib_client_id(sessions, "execution-1/b")
            again = await ib_client_id(sessions, "execution-1/a")
            empty = await ib_order_id_floor(sessions, "U1")
            async with sessions.begin() as db:
                db.add(Strategy(id="s", class_path="x:y", config={}, mode=Mode.LIVE))
                await db.flush()
                for account, ids in (("U1", ["17", "905", "abc"]), ("U2", ["5000"])):
                    run = Run(
                        strategy_id="s",
                        type=RunType.LIVE,
                        status=RunStatus.COMPLETED,
                        config={},
                        repro={"account": account, "broker": "ib"},
                    )
                    db.add(run)
                    await db.flush()
                    for k, broker_id in enumerate(ids):
                        db.add(order_row(run.id, f"c{k}", broker_id))
            floor = await ib_order_id_floor(sessions, "U1")
            return first, second, again, empty, floor
        finally:
            await engine.dispose()

    first, second, again, empty, floor = asyncio.run(main())
    assert second == first + 1
    assert again == first  # the same runner keeps its client id
    assert empty == 0
    assert floor == 905  # U1's highest numeric IB order id, not U2's


def order_row(run_id: Any, cid: str, broker_id: str) -> Order:
    now = datetime.now(UTC)
    return Order(
        run_id=run_id,
        strategy_id="s",
        client_order_id=cid,
        symbol="AAA",
        side="buy",
        type="market",
        time_in_force="day",
        quantity=Decimal(1),
        status="filled",
        submitted_at=now,
        filled_quantity=Decimal(1),
        broker_order_id=broker_id,
    )


def test_execution_service_an_unreachable_broker_trades_nothing_and_says_why(
    database_url: str, url: str
) -> None:
    broker = LoopbackBroker()
    broker.refuse_connect = True

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession]
    ) -> tuple[dict[str, Any], int]:
        await until(lambda: "sma_live" in service.refused)
        async with sessions() as db:
            runs = await db.scalar(select(func.count()).select_from(Run))
        return service.describe(), int(runs or 0)

    described, runs = with_service(
        database_url, url, Mode.PAPER, scenario, broker="loopback", broker_factory=lambda r: broker
    )
    assert described["trading"] == {}
    assert runs == 0  # no session was opened
    assert "cannot connect to loopback" in described["refused"]["sma_live"]
    assert described["broker"] == "loopback"


def test_execution_service_live_on_the_simulated_broker_is_refused(
    database_url: str, url: str
) -> None:
    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession]
    ) -> dict[str, Any]:
        await until(lambda: "sma_live" in service.refused)
        return service.describe()

    described = with_service(database_url, url, Mode.LIVE, scenario)
    assert described["trading"] == {}
    assert "LIVE trades only through a real broker" in described["refused"]["sma_live"]


def test_execution_service_a_live_strategy_trades_through_its_adapter_and_announces_it(
    database_url: str, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    broker = LoopbackBroker(account_id="LB-777")
    told: list[str] = []

    def factory(request: BrokerRequest) -> LiveBroker:
        assert request.runner == "execution-1/sma_live"
        return broker

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession]
    ) -> tuple[Any, dict[str, Any]]:
        await until(lambda: "sma_live" in service.trading)
        trading = service.trading["sma_live"]
        run_id = trading.run_id
        frames = {s: SOURCE.get_bars(s).iloc[10:] for s in SOURCE.symbols()}
        for k in range(len(frames[SOURCE.symbols()[0]])):
            step = {s: f.iloc[[k]] for s, f in frames.items()}
            for symbol, frame in step.items():
                broker.set_price(symbol, Decimal(str(frame["close"].iloc[0])), frame.index[0])
            await publish_replay(service._bus, step, source=FEED, timeframe="1m")
            await until(lambda k=k: trading.runner.processed == k + 1)  # type: ignore[misc]
        linked = service.describe()["links"]
        async with sessions.begin() as db:
            await db.execute(
                update(Strategy).where(Strategy.id == "sma_live").values(mode=Mode.PAPER)
            )
        await until(
            lambda: (
                "sma_live" not in service.trading or service.trading["sma_live"].run_id != run_id
            )
        )
        async with sessions() as db:
            run = await db.get(Run, run_id)
        return run, linked

    with caplog.at_level(logging.WARNING, logger="quant.execution"):
        run, linked = with_service(
            database_url,
            url,
            Mode.LIVE,
            scenario,
            broker="loopback",
            broker_factory=factory,
            settings=BacktestConfig(),
            announce=told.append,
        )
    assert run.type is RunType.LIVE
    assert run.repro["broker"] == "loopback"
    assert linked["sma_live"]["connected"] is True
    assert linked["sma_live"]["unsettled"] == []
    assert broker.submitted  # its orders went to the adapter
    assert all(o.client_order_id.startswith("sma_live-") for o in broker.submitted)
    assert len(told) == 1
    assert "LB-777" in told[0]
    assert "loopback://in-process" in told[0]
    assert "max_position_pct" in told[0]
    assert told[0] in caplog.text
    assert not broker.connected  # the session's adapter is closed when it stops


def test_execution_service_the_adapters_of_a_missing_module_are_refused_clearly(
    database_url: str, url: str
) -> None:
    def factory(request: BrokerRequest) -> LiveBroker:
        return build_broker(BrokerRequest("nosuch", request.account, request.runner))

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession]
    ) -> dict[str, Any]:
        await until(lambda: "sma_live" in service.refused)
        return service.describe()

    described = with_service(
        database_url, url, Mode.PAPER, scenario, broker="nosuch", broker_factory=factory
    )
    assert "no adapter for broker kind 'nosuch'" in described["refused"]["sma_live"]


def test_loopback_refuses_a_connect_when_told(database_url: str) -> None:
    del database_url
    broker = LoopbackBroker()
    broker.refuse_connect = True
    with pytest.raises(BrokerUnavailable):
        broker.connect()


KEYS = {"APCA_API_KEY_ID": "PKLOGKEY4242", "APCA_API_SECRET_KEY": "log-secret-value-0001"}


def logged_secrets(text: str, secrets: dict[str, str]) -> list[str]:
    """The names of the secrets whose values appear in `text` (captured log lines)."""
    return [name for name, value in secrets.items() if value in text]


def test_logged_secrets_finds_a_planted_key_in_captured_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("quant.execution").info("connecting with %s", KEYS["APCA_API_SECRET_KEY"])
    assert logged_secrets(caplog.text, KEYS) == ["APCA_API_SECRET_KEY"]


@pytest.mark.parametrize("kind", ["loopback", "alpaca"])
def test_execution_service_a_live_session_start_logs_no_broker_key(
    kind: str,
    database_url: str,
    url: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = dict(KEYS)
    with contextlib.ExitStack() as stack:
        if kind == "alpaca":  # the real adapter authenticating with the local server's keys
            server = stack.enter_context(FakeAlpacaBroker())
            keys = {"APCA_API_KEY_ID": FAKE_KEY_ID, "APCA_API_SECRET_KEY": FAKE_SECRET_KEY}
            monkeypatch.setenv("QUANT_ALPACA_BROKER_TRADING_URL", server.url)
            monkeypatch.setenv("QUANT_ALPACA_BROKER_STREAM_URL", server.stream_url)
            factory: Any = build_broker
        else:
            broker = LoopbackBroker()
            factory = lambda request: broker  # noqa: E731
        for name, value in keys.items():
            monkeypatch.setenv(name, value)
        told: list[str] = []

        async def scenario(
            service: ExecutionService, sessions: async_sessionmaker[AsyncSession]
        ) -> dict[str, Any]:
            await until(lambda: "sma_live" in service.trading or "sma_live" in service.refused)
            return service.describe()

        with caplog.at_level(logging.DEBUG):
            described = with_service(
                database_url,
                url,
                Mode.LIVE,
                scenario,
                broker=kind,
                broker_factory=factory,
                announce=told.append,
            )
    assert described["refused"] == {}
    assert "goes LIVE for the first time" in caplog.text  # the start was captured
    assert logged_secrets(caplog.text + "\n".join(told) + str(described), keys) == []


def test_execution_service_a_dropped_link_is_alerted_and_its_return_reconciled_and_saved(
    database_url: str, url: str
) -> None:
    broker = LoopbackBroker()

    async def alerts(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
        async with sessions() as db:
            rows = (await db.scalars(select(Alert).order_by(Alert.id))).all()
        return [(a.severity, a.message) for a in rows]

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession]
    ) -> tuple[list[tuple[str, str]], Any, int]:
        await until(lambda: "sma_live" in service.trading)
        trading = service.trading["sma_live"]
        frames = {s: SOURCE.get_bars(s).iloc[10:] for s in SOURCE.symbols()}

        async def step(k: int) -> None:
            one = {s: f.iloc[[k]] for s, f in frames.items()}
            for symbol, frame in one.items():
                broker.set_price(symbol, Decimal(str(frame["close"].iloc[0])), frame.index[0])
            await publish_replay(service._bus, one, source=FEED, timeframe="1m")
            await until(lambda: trading.runner.processed == k + 1)

        await step(0)
        broker.drop_link()
        await until(lambda: any("link is down" in m for _, m in told), timeout=10)
        await step(1)
        broker.restore_link()
        await until(lambda: any("link is back" in m for _, m in told), timeout=10)
        await step(2)  # the session applies the reconnect: it reconciles before it trades
        async with sessions() as db:
            check = await reconciliation_state(db, service.account)
        return await alerts(sessions), check, trading.session.reconnects

    told: list[tuple[str, str]] = []

    async def watched(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession]
    ) -> tuple[list[tuple[str, str]], Any, int]:
        async def poll() -> None:
            while True:
                told[:] = await alerts(sessions)
                await asyncio.sleep(0.05)

        poller = asyncio.create_task(poll())
        try:
            return await scenario(service, sessions)
        finally:
            poller.cancel()

    raised, check, reconnects = with_service(
        database_url, url, Mode.LIVE, watched, broker="loopback", broker_factory=lambda r: broker
    )
    assert ("critical", "sma_live: the loopback link is down; no order is sent") in raised
    assert any(s == "warning" and "link is back" in m for s, m in raised)
    assert reconnects == 1
    assert check is not None
    assert check.state.value == "clean"


def test_execution_service_a_refused_broker_raises_a_critical_alert(
    database_url: str, url: str
) -> None:
    broker = LoopbackBroker()
    broker.refuse_connect = True

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession]
    ) -> list[tuple[str, str | None, str]]:
        await until(lambda: "sma_live" in service.refused)
        async with sessions() as db:
            rows = (await db.scalars(select(Alert))).all()
        return [(a.severity, a.strategy_id, a.message) for a in rows]

    raised = with_service(
        database_url, url, Mode.PAPER, scenario, broker="loopback", broker_factory=lambda r: broker
    )
    assert len(raised) == 1
    severity, strategy, message = raised[0]
    assert (severity, strategy) == ("critical", "sma_live")
    assert "cannot connect to loopback" in message
