"""The execution service's gauges, read when Prometheus scrapes (never on the order path)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_bus.consumer_groups import GroupState, consumer_groups
from quant_db import controls
from quant_engine.reconciliation import ReconciliationState
from quant_execution.service import ExecutionService
from quant_execution.step_metrics import BookFigures, StepMetrics
from quant_telemetry import Collector, ScrapedGauge, on_loop
from quant_telemetry.collectors import Reading
from quant_telemetry.metrics import (
    BROKER_CONNECTED,
    DAILY_PNL,
    DRAWDOWN,
    EQUITY,
    KILL_SWITCH_CODES,
    KILL_SWITCH_MODE,
    RECONCILIATION_STATE,
    STREAM_LAG,
    STREAM_PENDING,
)


def _books(
    service: ExecutionService, steps: StepMetrics, figure: Callable[[BookFigures], float]
) -> Callable[[], Reading]:
    def read() -> Reading:
        trading = set(service.trading)
        return {(s,): figure(b) for s, b in list(steps.books.items()) if s in trading}

    return read


def _reconciliation(service: ExecutionService) -> Reading:
    """1 when any session of the account may not send (blocked, or not compared yet), else 0."""
    sessions = [t.session for t in list(service.trading.values())]
    if not sessions:
        return {}
    waiting = any(
        s.loop.reconciliation is None
        or s.loop.reconciliation.state is not ReconciliationState.CLEAN
        for s in sessions
    )
    return {(service.account,): 1.0 if waiting else 0.0}


def _brokers(service: ExecutionService) -> Reading:
    """Live brokers' links (a LiveBroker has a name and a `connected` flag; the paper broker is
    in-process and has neither); any session seeing its link down counts it down."""
    found: dict[tuple[str, ...], float] = {}
    for trading in list(service.trading.values()):
        broker = trading.session.loop.broker
        name, connected = getattr(broker, "name", None), getattr(broker, "connected", None)
        if isinstance(name, str) and isinstance(connected, bool):
            found[(name,)] = min(found.get((name,), 1.0), float(connected))
    return found


def _groups(states: list[GroupState], lag: bool) -> Reading:
    return {(g.stream, g.group): float(g.lag if lag else g.pending) for g in states}


def execution_collectors(
    service: ExecutionService,
    steps: StepMetrics,
    sessions: async_sessionmaker[AsyncSession],
    redis: Redis,
    loop: asyncio.AbstractEventLoop,
) -> list[Collector]:
    """Collectors for the standalone metrics server of `quant execution run`; reads needing
    PostgreSQL or Redis run on the service's `loop` with its own clients."""

    async def mode() -> Reading:
        async with sessions() as db:
            state = await controls.kill_switch(db)
        return {(): float(KILL_SWITCH_CODES[str(state.mode)])}

    async def groups() -> list[GroupState]:
        return await consumer_groups(redis)

    read_groups = on_loop(loop, groups)
    return [
        ScrapedGauge(EQUITY, _books(service, steps, lambda b: b.equity)),
        ScrapedGauge(DAILY_PNL, _books(service, steps, lambda b: b.daily_pnl_ratio)),
        ScrapedGauge(DRAWDOWN, _books(service, steps, lambda b: b.drawdown_ratio)),
        ScrapedGauge(RECONCILIATION_STATE, lambda: _reconciliation(service)),
        ScrapedGauge(BROKER_CONNECTED, lambda: _brokers(service)),
        ScrapedGauge(KILL_SWITCH_MODE, on_loop(loop, mode)),
        ScrapedGauge(STREAM_LAG, lambda: _groups(read_groups(), lag=True)),
        ScrapedGauge(STREAM_PENDING, lambda: _groups(read_groups(), lag=False)),
    ]
