"""The monitoring service's rules on real PostgreSQL and Redis: each condition raises one alert
under its dedupe key, and evaluating again raises nothing new while it persists."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from redis.asyncio import Redis
from sqlalchemy import select, text

from quant_bus.redis_bus import RedisBus
from quant_bus.streams import RISK_MODE, RiskModeChanged
from quant_db.alerts import kill_switch_key
from quant_db.controls import kill_switch
from quant_db.heartbeats import HeartbeatBeacon, beat, last_beats
from quant_db.schema import Alert, Order, OrderEvent, Reconciliation, Run, Strategy
from quant_db.schema.execution import ReconciliationState
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_domain import KillSwitchMode
from quant_monitoring import rules
from quant_monitoring.channel_config import ChannelsConfig
from quant_monitoring.rules import Thresholds
from quant_monitoring.service import MonitoringService
from tests.integration.monitoring.delivery import sessions

FAST = Thresholds(rejections=2, stream_lag=3, broker_down_s=60.0)
NO_SUMMARY = ChannelsConfig(channels=[])
MONITORING_DB = 9


def _service(factory, redis: Redis, **kwargs) -> MonitoringService:  # type: ignore[no-untyped-def]
    config = kwargs.pop("config", NO_SUMMARY)
    if config is NO_SUMMARY:
        config = ChannelsConfig(
            channels=[], daily_summary=config.daily_summary.model_copy(update={"enabled": False})
        )
    return MonitoringService(factory, redis, config, thresholds=FAST, **kwargs)


async def _redis(url: str) -> Redis:
    """A database of the shared server of its own, emptied: other tests' streams stay out."""
    redis = Redis.from_url(url, db=MONITORING_DB)
    await redis.flushdb()
    return redis


async def _alerts(factory) -> list[Alert]:  # type: ignore[no-untyped-def]
    async with factory() as session:
        return list((await session.scalars(select(Alert).order_by(Alert.id))).all())


def test_missing_heartbeat_and_long_broker_disconnect_raise_once_each(
    database_url: str, redis_url: str
) -> None:
    async def scenario() -> None:
        async with sessions(database_url) as factory:
            redis = await _redis(redis_url)
            async with factory() as session:
                started = datetime.now(UTC)
                await beat(session, "execution", "h:1", started_at=started, interval_s=1.0)
                await beat(
                    session,
                    "data",
                    "h:2",
                    started_at=started,
                    interval_s=1.0,
                    detail={
                        "broker_connected": False,
                        "broker_disconnected_since": (
                            datetime.now(UTC) - timedelta(seconds=61)
                        ).isoformat(),
                    },
                )
                await beat(session, "api", "h:3", started_at=started, interval_s=1.0)
                await session.execute(
                    text(
                        "UPDATE heartbeats SET last_beat = now() - interval '20 seconds' "
                        "WHERE service = 'execution'"
                    )
                )
                await session.commit()
                states = {b.service: b.state for b in await last_beats(session)}
            assert states == {"api": "ok", "data": "ok", "execution": "missing"}
            service = _service(factory, redis)
            raised = await service.evaluate()
            assert sorted(k.split(":")[0] for k in raised) == [
                "broker_disconnected",
                "heartbeat_missing",
            ]
            assert await service.evaluate() == []
            alerts = await _alerts(factory)
            assert ("critical", "heartbeat_missing:execution:h:1") in [
                (a.severity, a.dedupe_key) for a in alerts
            ]
            await redis.aclose()

    asyncio.run(scenario())


def test_beacon_says_since_when_its_broker_is_down_and_marks_itself_stopped(
    database_url: str,
) -> None:
    async def scenario() -> None:
        connected = {"broker_connected": True}
        async with sessions(database_url) as factory:
            beacon = HeartbeatBeacon(
                factory,
                "execution",
                instance="h:9",
                interval_s=0.1,
                metrics_url="http://127.0.0.1:9101/metrics",
                detail=lambda: connected,
            )
            assert await beacon.beat()
            connected["broker_connected"] = False
            assert await beacon.beat()
            async with factory() as session:
                (first,) = await last_beats(session)
            since = first.detail["broker_disconnected_since"]
            assert await beacon.beat()
            async with factory() as session:
                (second,) = await last_beats(session)
            assert second.detail["broker_disconnected_since"] == since
            assert second.metrics_url == "http://127.0.0.1:9101/metrics"
            await beacon.stop()
            async with factory() as session:
                (gone,) = await last_beats(session)
            assert gone.state == "stopped"

    asyncio.run(scenario())


def test_manual_kill_switch_change_raises_unless_the_risk_service_announced_it(
    database_url: str, redis_url: str
) -> None:
    async def scenario() -> None:
        async with sessions(database_url) as factory:
            redis = await _redis(redis_url)
            async with factory() as session:
                state = await kill_switch(session, for_update=True)
                state.mode = KillSwitchMode.HALT_ENTRIES
                state.reason = "manual check"
                state.changed_at = datetime.now(UTC)
                await session.commit()
                key = kill_switch_key(state)
            service = _service(factory, redis)
            assert await service.evaluate() == [key]
            (alert,) = await _alerts(factory)
            assert (alert.severity, alert.title) == ("critical", "kill switch: halt_entries")
            # a breaker trip the risk service announced itself: not raised a second time
            async with factory() as session:
                state = await kill_switch(session, for_update=True)
                state.mode = KillSwitchMode.REDUCE_ONLY
                state.reason = "daily loss"
                state.changed_at = datetime.now(UTC)
                session.add(Alert(severity="critical", source="risk", message="daily loss"))
                await session.commit()
            assert await service.evaluate() == []
            await redis.aclose()

    asyncio.run(scenario())


async def _trading_rows(factory) -> uuid.UUID:  # type: ignore[no-untyped-def]
    async with factory() as session:
        session.add(Strategy(id="s1", class_path="x:Y", config={}, mode=Mode.PAPER))
        await session.flush()
        run = Run(strategy_id="s1", type=RunType.PAPER, status=RunStatus.RUNNING, config={})
        session.add(run)
        await session.flush()
        now = datetime.now(UTC)
        for n in range(3):
            session.add(
                Order(
                    run_id=run.id,
                    strategy_id="s1",
                    client_order_id=f"c{n}",
                    symbol="SPY",
                    side="buy",
                    type="market",
                    time_in_force="day",
                    quantity=Decimal(1),
                    status="rejected",
                    submitted_at=now,
                    filled_quantity=Decimal(0),
                )
            )
            await session.flush()
            session.add(
                OrderEvent(
                    run_id=run.id,
                    client_order_id=f"c{n}",
                    status="rejected",
                    at=now,
                    idempotency_key=f"k{n}",
                    reason="insufficient buying power",
                )
            )
        session.add(
            Reconciliation(
                account="paper",
                run_id=run.id,
                state=ReconciliationState.BLOCKED,
                checked_at=now,
                diff={},
            )
        )
        failed = Run(
            strategy_id="s1",
            type=RunType.BACKTEST,
            status=RunStatus.FAILED,
            config={},
            error="ValueError: no bars\ntraceback...",
            finished_at=now,
        )
        session.add(failed)
        await session.commit()
        return failed.id


def test_rejection_burst_blocked_reconciliation_and_failed_run_raise_their_alerts(
    database_url: str, redis_url: str
) -> None:
    async def scenario() -> None:
        async with sessions(database_url) as factory:
            redis = await _redis(redis_url)
            failed = await _trading_rows(factory)
            service = _service(factory, redis)
            # stale_data depends on whether the market is open now: tested on its own below
            raised = [k for k in await service.evaluate() if not k.startswith("stale_data")]
            assert sorted(raised) == sorted(
                ["order_rejections:s1", "reconciliation_blocked:paper", f"run_failed:{failed}"]
            )
            alerts = {a.dedupe_key: a for a in await _alerts(factory)}
            run_alert = alerts[f"run_failed:{failed}"]
            assert (run_alert.severity, run_alert.message) == ("warning", "ValueError: no bars")
            assert await service.evaluate() == []
            await redis.aclose()

    asyncio.run(scenario())


def test_stream_lag_and_dead_letters_raise_and_redis_away_is_itself_an_alert(
    database_url: str, redis_url: str
) -> None:
    async def scenario() -> None:
        async with sessions(database_url) as factory:
            redis = await _redis(redis_url)
            await redis.delete("fills", "fills.dead")
            await redis.xgroup_create("fills", "risk", id="0", mkstream=True)
            for n in range(5):
                await redis.xadd("fills", {"n": str(n)})
            dead_id = await redis.xadd("fills.dead", {"reason": "handler failed: boom"})
            service = _service(factory, redis)
            raised = await service.evaluate()
            assert "stream_lag:fills:risk" in raised
            assert f"dead_letters:fills:{dead_id.decode()}" in raised
            await redis.delete("fills", "fills.dead")
            away = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
            assert "redis_unreachable" in await _service(factory, away).evaluate()
            await away.aclose()
            await redis.aclose()

    asyncio.run(scenario())


def test_daily_summary_after_the_close_is_raised_once_per_session(
    database_url: str, redis_url: str
) -> None:
    async def scenario() -> None:
        async with sessions(database_url) as factory:
            redis = await _redis(redis_url)
            await _trading_rows(factory)
            # Monday 2026-12-07: XNYS closes 21:00 UTC; the summary waits 15 minutes after it
            clock = {"now": datetime(2026, 12, 7, 21, 10, tzinfo=UTC)}
            service = MonitoringService(
                factory,
                redis,
                ChannelsConfig(channels=[]),
                thresholds=FAST,
                clock=lambda: clock["now"],
            )
            raised = await service.evaluate()
            assert "daily_summary:2026-12-04" in raised  # Friday's, the last closed session
            clock["now"] = datetime(2026, 12, 7, 21, 16, tzinfo=UTC)
            assert "daily_summary:2026-12-07" in await service.evaluate()
            assert not any(k.startswith("daily_summary") for k in await service.evaluate())
            alerts = {a.dedupe_key: a for a in await _alerts(factory)}
            today = alerts["daily_summary:2026-12-07"]
            assert today.severity == "info"
            assert today.context is not None
            assert today.context["strategies"]["s1"]["mode"] == "PAPER"
            assert today.context["kill_switch"] == "active"
            assert "s1 (PAPER): PnL n/a, realized +0.00, 0 trades" in today.message
            await redis.aclose()

    asyncio.run(scenario())


def test_broadcast_breaker_change_raises_unless_the_risk_service_announced_it(
    database_url: str, redis_url: str
) -> None:
    async def scenario() -> None:
        async with sessions(database_url) as factory:
            redis = await _redis(redis_url)
            bus = RedisBus.from_url(redis_url)
            clock = {"now": datetime.now(UTC)}
            service = MonitoringService(
                factory,
                redis,
                ChannelsConfig(channels=[]),
                thresholds=FAST,
                bus=bus,
                clock=lambda: clock["now"],
            )
            stop = asyncio.Event()
            listening = asyncio.create_task(service.listen(stop))
            await asyncio.sleep(0.3)  # subscribed
            changed = datetime.now(UTC)
            for strategy in ("s1", "s2"):
                await bus.broadcast(
                    RISK_MODE,
                    RiskModeChanged(
                        idempotency_key=f"b-{strategy}",
                        strategy_id=strategy,
                        mode=KillSwitchMode.REDUCE_ONLY,
                        breaker="daily_loss",
                        reason="lost 2.1% today",
                        timestamp=changed,
                    ),
                )
            while len(service.breaker_events) < 2:
                await asyncio.sleep(0.05)
            stop.set()
            await listening
            # too recent to tell whether the risk service announces it: it waits
            assert [k for k in await service.evaluate() if k.startswith("risk_mode")] == []
            assert len(service.breaker_events) == 2
            clock["now"] = changed + timedelta(seconds=31)
            raised = [k for k in await service.evaluate() if k.startswith("risk_mode")]
            assert raised == [
                f"risk_mode:s1:reduce_only:{changed.isoformat()}",
                f"risk_mode:s2:reduce_only:{changed.isoformat()}",
            ]
            assert service.breaker_events == []
            await bus.close()
            await redis.aclose()

    asyncio.run(scenario())


def test_breaker_change_the_risk_service_announced_is_not_raised_again(
    database_url: str,
) -> None:
    async def scenario() -> None:
        async with sessions(database_url) as factory:
            changed = datetime.now(UTC)
            async with factory() as session:
                session.add(Alert(severity="critical", source="risk", message="daily loss"))
                await session.commit()
                event = RiskModeChanged(
                    idempotency_key="b",
                    strategy_id="s1",
                    mode=KillSwitchMode.REDUCE_ONLY,
                    breaker="daily_loss",
                    timestamp=changed,
                )
                found, waiting = await rules.breaker_changes(
                    session, [event], changed + timedelta(seconds=31), FAST
                )
            assert (found, waiting) == ([], [])

    asyncio.run(scenario())
