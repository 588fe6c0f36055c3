"""Trip the risk breakers on the browser tests' stack with planted losses; print what happened.

A paper session of STRATEGY_ID is stored as running, its daily equity points are recorded the
way the execution service records each step (quant_execution.paper_sessions.record_step), and
after each point the risk service's own evaluation runs (quant_risk.RiskService.evaluate, which
persists, audits, alerts and broadcasts each mode change), as `quant risk run` would. Then the
session is marked completed, so nothing trades on it. A policy must be in force first (`quant
risk apply`). With the default policy (daily loss 2 %, drawdown 10 %) the path below trips the
daily loss on its 4th point, releases it on the 5th (a new session) and latches the drawdown on
the 11th (10.9 % under the peak of 101,000), leaving the kill switch in flatten_and_halt.

Usage: DATABASE_URL=... REDIS_URL=... python e2e/trip_breakers.py STRATEGY_ID
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

EQUITY = [100_000, 101_000, 100_000, 97_000, 97_500, 97_000, 95_500, 94_000, 92_600, 91_200, 90_000]


def weekdays_before(today: datetime, count: int) -> list[datetime]:
    """The `count` weekdays before `today`, oldest first, at midnight UTC (daily bars' stamps)."""
    day = today.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=UTC)
    days: list[datetime] = []
    while len(days) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days[::-1]


async def trip(strategy_id: str) -> dict[str, Any]:
    from sqlalchemy import update  # noqa: PLC0415
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: PLC0415

    from quant_bus.redis_bus import RedisBus  # noqa: PLC0415
    from quant_db.schema import Run  # noqa: PLC0415
    from quant_db.schema.runs import RunStatus, RunType  # noqa: PLC0415
    from quant_execution.paper_sessions import record_step  # noqa: PLC0415
    from quant_risk.service import RiskService  # noqa: PLC0415

    engine = create_async_engine(os.environ["DATABASE_URL"])
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = RedisBus.from_url(os.environ["REDIS_URL"])
    try:
        now = datetime.now(UTC)
        async with sessions.begin() as db:
            run = Run(
                strategy_id=strategy_id,
                type=RunType.PAPER,
                status=RunStatus.RUNNING,
                config={"timeframe": "1d"},
                message="e2e: planted losses for the breakers",
                started_at=now,
            )
            db.add(run)
        service = RiskService(sessions, bus)
        changes = []
        for at, equity in zip(weekdays_before(now, len(EQUITY)), EQUITY, strict=True):
            await record_step(sessions, run.id, at, (equity, equity, 0.0, 0.0), {})
            for change in await service.evaluate():
                changes.append(
                    {"rule": change.trip.rule, "mode": change.mode.value, "at": at.isoformat()}
                )
        async with sessions.begin() as db:
            await db.execute(
                update(Run)
                .where(Run.id == run.id)
                .values(status=RunStatus.COMPLETED, finished_at=datetime.now(UTC), progress=1.0)
            )
        return {"run_id": str(run.id), "changes": changes}
    finally:
        await bus.close()
        await engine.dispose()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(asyncio.run(trip(sys.argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
