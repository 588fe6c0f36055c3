"""The monitoring service: evaluates the alert rules every few seconds, raises what they find,
delivers alerts to the channels, sends the daily summary, and beats like every other service.

It runs in its own process (`quant monitoring run`): nothing here is on the trading path. Each
rule is evaluated on its own, so PostgreSQL or Redis being away silences only the rules that
read it (and a Redis outage is itself an alert, raised in PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_bus.base import EventBus
from quant_bus.streams import RISK_MODE, RiskModeChanged
from quant_db.alerts import Severity, raise_alert
from quant_db.heartbeats import HeartbeatBeacon, last_beats
from quant_monitoring import bus_health, feed_staleness, rules
from quant_monitoring.channel_config import ChannelsConfig
from quant_monitoring.daily_summary import last_closed_session, market_open, summary
from quant_monitoring.dispatcher import Dispatcher
from quant_monitoring.rules import Finding, Thresholds

log = logging.getLogger("quant.monitoring")
SOURCE = "monitoring"
SUMMARY_QUIET_S = 7 * 24 * 3600.0  # a session's summary is sent once, whatever restarts
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MonitoringService:
    """Rules, deliveries and the daily summary for one platform."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis,
        config: ChannelsConfig,
        *,
        thresholds: Thresholds | None = None,
        every_s: float = 5.0,
        poll_s: float = 1.0,
        metrics_url: str | None = None,
        clock: Clock = _utc_now,
        bus: EventBus | None = None,
    ) -> None:
        self._sessions = sessions
        self._redis = redis
        self.config = config
        self.thresholds = thresholds or Thresholds()
        self.every_s = every_s
        self.clock = clock
        self.dispatcher = Dispatcher(sessions, config, poll_s=poll_s)
        self.beacon = HeartbeatBeacon(
            sessions,
            SOURCE,
            metrics_url=metrics_url,
            detail=lambda: {"channels": [c.name for c in config.channels]},
        )
        self.errors: dict[str, str] = {}  # rule -> why it could not be evaluated last time
        self._bus = bus
        # breaker changes heard on the broadcast, until it is clear whether the risk service
        # announced them itself
        self.breaker_events: list[RiskModeChanged] = []

    async def _findings(
        self, name: str, rule: Callable[[], Awaitable[list[Finding]]]
    ) -> list[Finding]:
        try:
            found = await rule()
        except Exception as exc:  # one unreadable source silences only its own rules
            if name not in self.errors:
                log.warning("rule %s cannot be evaluated: %s", name, type(exc).__name__)
            self.errors[name] = type(exc).__name__
            return []
        self.errors.pop(name, None)
        return found

    async def findings(self) -> list[Finding]:
        """Everything the rules see wrong now."""
        now = self.clock()
        t = self.thresholds

        async def beats() -> list[Finding]:
            async with self._sessions() as session:
                seen = await last_beats(session)
            return rules.missing_heartbeats(seen) + rules.disconnected_brokers(
                seen, now, t.broker_down_s
            )

        async def database() -> list[Finding]:
            async with self._sessions() as session:
                return (
                    await rules.kill_switch_change(session, now, t)
                    + await rules.blocked_reconciliations(session)
                    + await rules.rejection_bursts(session, now, t)
                    + await rules.failed_runs(session, now, t)
                )

        async def bus() -> list[Finding]:
            return await bus_health.lagging_groups(self._redis, t) + await bus_health.dead_letters(
                self._redis
            )

        async def feeds() -> list[Finding]:
            is_open = market_open(self.config.daily_summary.calendar, now)
            if not is_open:
                return []
            async with self._sessions() as session:
                traded = feed_staleness.live_feeds(await last_beats(session))
            return await feed_staleness.stale_feeds(self._redis, is_open, traded)

        async def breakers() -> list[Finding]:
            async with self._sessions() as session:
                found, self.breaker_events = await rules.breaker_changes(
                    session, self.breaker_events, now, t
                )
            return found

        found = await self._findings("heartbeats", beats)
        found += await self._findings("breakers", breakers)
        found += await self._findings("database", database)
        found += await self._findings("bus", bus)
        found += await self._findings("feeds", feeds)
        if "bus" in self.errors:
            found.append(
                Finding(
                    key="redis_unreachable",
                    severity=Severity.CRITICAL,
                    title="Redis does not answer",
                    message="the bus cannot be read: stream lag, dead letters and the live "
                    f"feeds' health are not watched ({self.errors['bus']}); runners refuse new orders meanwhile",
                )
            )
        return found

    async def _raise(self, finding: Finding, quiet_s: float | None = None) -> bool:
        async with self._sessions() as session:
            alert = await raise_alert(
                session,
                severity=finding.severity,
                source=SOURCE,
                message=finding.message,
                dedupe_key=finding.key,
                title=finding.title,
                context=finding.context,
                strategy_id=finding.strategy_id,
                run_id=finding.run_id,
                **({} if quiet_s is None else {"quiet_s": quiet_s}),
            )
            await session.commit()
        if alert is not None:
            log.info("alert raised: %s (%s)", finding.key, finding.severity)
        return alert is not None

    async def evaluate(self) -> list[str]:
        """Evaluate every rule once and raise the new findings; the keys raised."""
        raised: list[str] = []
        for finding in await self.findings():
            try:
                if await self._raise(finding):
                    raised.append(finding.key)
            except Exception as exc:
                log.warning("alert %s not raised: %s", finding.key, type(exc).__name__)
        summary_key = await self._daily_summary()
        if summary_key is not None:
            raised.append(summary_key)
        return raised

    async def _daily_summary(self) -> str | None:
        rules_ = self.config.daily_summary
        if not rules_.enabled:
            return None
        closed = last_closed_session(
            rules_.calendar, self.clock(), timedelta(minutes=rules_.after_close_minutes)
        )
        if closed is None:
            return None
        try:
            async with self._sessions() as session:
                finding = await summary(session, closed)
            if await self._raise(finding, quiet_s=SUMMARY_QUIET_S):
                return finding.key
        except Exception as exc:
            log.warning("daily summary not written: %s", type(exc).__name__)
        return None

    async def listen(self, stop: asyncio.Event) -> None:
        """Collect the breakers' broadcasts until `stop` (re-subscribing after a Redis outage:
        a broadcast missed meanwhile still shows in the kill-switch rule, which reads the row)."""
        if self._bus is None:
            return
        while not stop.is_set():
            try:
                async with self._bus.subscribe(RISK_MODE) as subscription:
                    while not stop.is_set():
                        event = await subscription.get(timeout=0.5)
                        if isinstance(event, RiskModeChanged):
                            self.breaker_events.append(event)
            except Exception as exc:
                log.warning("breaker broadcasts not heard: %s", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.every_s)

    async def run(self, stop: asyncio.Event) -> None:
        """Beat, deliver and evaluate until `stop` is set."""
        # building an exchange calendar takes seconds of CPU: once, at start, not mid-session
        await asyncio.to_thread(market_open, self.config.daily_summary.calendar, self.clock())
        self.beacon.start()
        delivering = asyncio.create_task(self.dispatcher.run(stop), name="alert delivery")
        listening = asyncio.create_task(self.listen(stop), name="breaker broadcasts")
        try:
            while not stop.is_set():
                await self.evaluate()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.every_s)
        finally:
            stop.set()
            await listening
            await delivering
            await self.dispatcher.close()
            await self.beacon.stop()
