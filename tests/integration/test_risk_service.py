"""The risk service on a replayed paper session with planted losses, on real PostgreSQL and Redis.

Each step is what the execution service's runner does (read the stored kill-switch mode and
apply it, run the bars through the PaperSession, record the step's equity point), then the risk
service evaluates. The same bars through a backtest with the policy's BreakerWatch must trip on
the same bar and send the same orders.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_bus.redis_bus import RedisBus
from quant_bus.streams import KILL_SWITCH, KillSwitchChanged
from quant_db import controls, risk
from quant_db.schema import Alert, AuditEntry, Run, Strategy, User
from quant_db.schema.identity import Role
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_domain import Bar, KillSwitchMode
from quant_engine import BacktestConfig, BacktestEngine, EngineRun, build_timeline
from quant_engine.breaker_watch import BreakerWatch
from quant_engine.breakers import BreakerState, rearmed
from quant_engine.paper import PaperSession
from quant_engine.risk_policy import RiskPolicy
from quant_execution.paper_sessions import record_step
from quant_risk.service import RiskService
from quant_strategy import build_strategy
from tests.factories import frame, strategy_config

NO_COSTS = BacktestConfig(slippage_bps=Decimal(0), commission_per_trade=Decimal(0))
POLICY = RiskPolicy.model_validate(
    {"account": {"daily_loss_limit": 0.02, "max_drawdown": 0.10, "calendar": "24H"}}
)
# daily bars: -3 % on step 3 (daily loss), released on step 4, then a slide of about 1.5 % a day
# to -10.9 % from the peak of 101 on step 10 (drawdown); the script re-enters on step 5 (step 4
# is refused) and tries again on step 11
DAILY = [100.0, 101.0, 100.0, 97.0, 97.5, 97.0, 95.5, 94.0, 92.6, 91.2, 90.0, 95.0, 99.0]
SCRIPT = {0: "long", 3: "flat", 4: "long", 5: "long", 11: "long"}

Body = Callable[[async_sessionmaker[AsyncSession], RedisBus, uuid.UUID], Awaitable[Any]]


def _backtest(closes: list[float], script: dict[int, str], freq: str) -> tuple[EngineRun, Any]:
    watch = BreakerWatch(POLICY.account)
    timeline = build_timeline({"TEST": frame(closes, freq=freq)})
    run = BacktestEngine(NO_COSTS).run(
        build_strategy(strategy_config(params={"script": script})), timeline, observer=watch
    )
    return run, watch


def _scenario(database_url: str, redis_url: str, body: Body) -> Any:
    async def main() -> Any:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        bus = RedisBus.from_url(redis_url)
        try:
            async with sessions.begin() as db:
                db.add(User(id=1, username="admin", password_hash="x", role=Role.ADMIN))
                db.add(Strategy(id="test", class_path="x:Y", config={}, mode=Mode.PAPER))
                await db.flush()
                run = Run(
                    strategy_id="test",
                    type=RunType.PAPER,
                    status=RunStatus.RUNNING,
                    config={"timeframe": "1d"},
                )
                db.add(run)
                admin = await db.get(User, 1)
                assert admin is not None
                await risk.apply_policy(
                    db,
                    user=admin,
                    policy=POLICY.model_dump(mode="json"),
                    reason="test policy",
                    source="test",
                    request_id="t",
                    via="test",
                )
            return await body(sessions, bus, run.id)
        finally:
            await bus.close()
            await engine.dispose()

    return asyncio.run(main())


async def _mode(sessions: async_sessionmaker[AsyncSession]) -> KillSwitchMode:
    async with sessions() as db:
        return KillSwitchMode((await controls.kill_switch(db)).mode)


async def _replay(
    sessions: async_sessionmaker[AsyncSession],
    bus: RedisBus,
    run_id: uuid.UUID,
    closes: list[float],
    script: dict[int, str],
    freq: str,
    service: RiskService,
) -> tuple[PaperSession, list[float]]:
    """Step a paper session through `closes` as the runner does; the service evaluates after
    each recorded step. Returns the session and, per mode change, seconds from the step's
    record to its alert row."""
    daily = freq == "D"
    session = PaperSession(
        build_strategy(strategy_config(params={"script": script})), NO_COSTS, daily=daily
    )
    lags = []
    for ts, row in frame(closes, freq=freq).iterrows():
        at: datetime = ts.to_pydatetime()  # type: ignore[attr-defined]
        mode = await _mode(sessions)  # the runner reads the stored mode before every step
        if mode != session.mode:
            session.set_mode(mode)
        bar = Bar("TEST", at, *(float(row[c]) for c in ("open", "high", "low", "close", "volume")))
        session.on_bars(at, [bar])
        await record_step(sessions, run_id, at, session.last_point(), session.marks())
        recorded = time.monotonic()
        if await service.evaluate():
            lags.append(time.monotonic() - recorded)
    return session, lags


async def _trips(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    """(mode, trip time) of each mode change the service made, oldest first."""
    async with sessions() as db:
        rows = (
            await db.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "kill_switch.set_mode")
                .order_by(AuditEntry.id)
            )
        ).all()
    return [(r.detail["after"]["mode"], (r.request_id or "").split(":", 2)[2][:10]) for r in rows]


def _orders(run: EngineRun) -> list[tuple[str, str, str, str]]:
    return [
        (str(r.submitted_at.date()), r.order.side.value, r.status.value, r.code) for r in run.orders
    ]


def test_risk_service_and_backtest_trip_on_the_same_bars_and_send_the_same_orders(
    database_url: str, redis_url: str
) -> None:
    async def body(sessions: Any, bus: RedisBus, run_id: uuid.UUID) -> Any:
        service = RiskService(sessions, bus)
        async with bus.subscribe(KILL_SWITCH) as changes:
            session, lags = await _replay(sessions, bus, run_id, DAILY, SCRIPT, "D", service)
            heard = []
            while (event := await changes.get(timeout=0.5)) is not None:
                assert isinstance(event, KillSwitchChanged)
                heard.append((event.previous.value, event.mode.value, event.changed_by))
        async with sessions() as db:
            alerts = (await db.scalars(select(Alert).order_by(Alert.id))).all()
            history = await risk.mode_history(db)
        return session.close(), lags, heard, alerts, history, await _trips(sessions)

    paper, lags, heard, alerts, history, trips = _scenario(database_url, redis_url, body)
    backtest, watch = _backtest(DAILY, SCRIPT, "D")
    times = [str(t.at.date()) for t in watch.trips]
    assert [(t.rule, s) for t, s in zip(watch.trips, watch.steps, strict=True)] == [
        ("daily_loss", 3),
        ("daily_loss_release", 4),
        ("drawdown", 10),
    ]
    assert [date for _, date in trips] == times  # the service tripped on the same bars
    assert [mode for mode, _ in trips] == ["reduce_only", "active", "flatten_and_halt"]
    assert heard == [
        ("active", "reduce_only", "risk"),
        ("reduce_only", "active", "risk"),
        ("active", "flatten_and_halt", "risk"),
    ]
    assert _orders(paper) == _orders(backtest)
    assert ("2024-01-05", "buy", "rejected", "REDUCE_ONLY") in _orders(backtest)
    assert paper.final_positions == backtest.final_positions == {}
    assert _orders(backtest)[-1] == ("2024-01-12", "buy", "rejected", "FLATTEN_AND_HALT")
    # every mode change raised a critical alert naming the rule, the value and the limit
    assert [(a.severity, a.source) for a in alerts] == [("critical", "risk")] * 3
    assert "daily loss breaker" in alerts[0].message
    assert "3.00%" in alerts[0].message
    assert "(limit 2.00%)" in alerts[0].message
    assert "drawdown" in alerts[2].message
    assert "(limit 10.00%)" in alerts[2].message
    assert all(lag < 5.0 for lag in lags)
    assert len(lags) == 3
    assert [h["via"] for h in history] == ["risk"] * 3
    assert history[0]["changed_by"] is None


def test_daily_loss_on_intraday_bars_pauses_entries_until_the_next_session(
    database_url: str, redis_url: str
) -> None:
    closes = [100.0, 100.0, 97.0] + [97.0] * 21 + [97.0, 97.0]  # hours 0-23, then 2 of day 2
    script = {0: "long", 3: "flat", 4: "long", 25: "long"}

    async def body(sessions: Any, bus: RedisBus, run_id: uuid.UUID) -> Any:
        async with sessions.begin() as db:  # an intraday session
            run = await db.get(Run, run_id)
            assert run is not None
            run.config = {"timeframe": "1h"}
        session, _ = await _replay(
            sessions, bus, run_id, closes, script, "h", RiskService(sessions, bus)
        )
        return session.close(), await _trips(sessions)

    paper, trips = _scenario(database_url, redis_url, body)
    backtest, watch = _backtest(closes, script, "h")
    assert watch.steps == [2, 24]
    assert [mode for mode, _ in trips] == ["reduce_only", "active"]
    codes = [(r.order.side.value, r.status.value, r.code) for r in paper.orders]
    assert codes == [
        ("buy", "filled", ""),
        ("sell", "filled", ""),
        ("buy", "rejected", "REDUCE_ONLY"),  # hour 4, same session
        ("buy", "filled", ""),  # day 2, released
    ]
    assert codes == [(r.order.side.value, r.status.value, r.code) for r in backtest.orders]


def test_latched_drawdown_survives_a_restart_and_only_a_rearm_lifts_it(
    database_url: str, redis_url: str
) -> None:
    path = [100.0, 101.0, 95.0, 93.0, 90.5]  # -10.4 % from the peak of 101 on step 4

    async def body(sessions: Any, bus: RedisBus, run_id: uuid.UUID) -> Any:
        first = RiskService(sessions, bus)
        await _replay(sessions, bus, run_id, path, {0: "long"}, "D", first)
        assert await _mode(sessions) is KillSwitchMode.FLATTEN_AND_HALT
        # a new process: the breakers' memory is the stored row; the equity recovers
        second = RiskService(sessions, bus)
        for day, equity in enumerate([99_000.0, 104_000.0], start=10):
            at = datetime.fromisoformat(f"2024-01-{day}T00:00:00+00:00")
            await record_step(sessions, run_id, at, (equity, equity, 0.0, 0.0), {})
            assert await second.evaluate() == []
        assert await _mode(sessions) is KillSwitchMode.FLATTEN_AND_HALT
        async with sessions() as db:
            latched = BreakerState.from_json((await risk.risk_state(db)).state["breakers"])
        assert latched.latched
        async with sessions.begin() as db:
            admin = await db.get(User, 1)

            before, switch = await risk.rearm(
                db,
                user=admin,
                reason="reviewed the loss",
                request_id="r",
                via="test",
                reset=rearmed,
            )
        assert (before, KillSwitchMode(switch.mode)) == (
            KillSwitchMode.FLATTEN_AND_HALT,
            KillSwitchMode.ACTIVE,
        )
        async with sessions() as db:
            entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "risk.rearm"))
            assert entry is not None
        assert entry.detail["before"]["breakers"]["latched"] is True
        assert entry.detail["after"]["breakers"]["latched"] is False
        assert entry.detail["after"]["breakers"]["peak"] == 104_000.0
        # re-armed from the last equity: a small dip next does not trip again
        at = datetime.fromisoformat("2024-01-12T00:00:00+00:00")
        await record_step(sessions, run_id, at, (103_000.0, 103_000.0, 0.0, 0.0), {})
        assert await second.evaluate() == []
        return await _mode(sessions)

    assert _scenario(database_url, redis_url, body) is KillSwitchMode.ACTIVE


def test_policy_change_is_versioned_and_audited_with_old_and_new_values(
    database_url: str, redis_url: str
) -> None:
    async def body(sessions: Any, bus: RedisBus, run_id: uuid.UUID) -> Any:
        tighter = POLICY.model_copy(
            update={"account": POLICY.account.model_copy(update={"max_drawdown": 0.05})}
        )
        async with sessions.begin() as db:
            admin = await db.get(User, 1)
            assert admin is not None
            row = await risk.apply_policy(
                db,
                user=admin,
                policy=tighter.model_dump(mode="json"),
                reason="tighter after review",
                source="test",
                request_id="p2",
                via="test",
            )
        async with sessions() as db:
            entry = await db.scalar(select(AuditEntry).where(AuditEntry.request_id == "p2"))
            in_force = await risk.policy_in_force(db)
        return row.version, entry, in_force

    version, entry, in_force = _scenario(database_url, redis_url, body)
    assert version == 2
    assert in_force is not None
    assert in_force.version == 2
    assert entry.detail["before"]["version"] == 1
    assert entry.detail["before"]["policy"]["account"]["max_drawdown"] == 0.1
    assert entry.detail["after"]["policy"]["account"]["max_drawdown"] == 0.05
    assert entry.detail["username"] == "admin"
    assert entry.detail["reason"] == "tighter after review"
