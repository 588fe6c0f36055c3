"""Service heartbeats in PostgreSQL: each running service says every few seconds that it lives.

The contract between every service (writer) and the monitoring service and the API (readers): one
row per `(service, instance)`, its `last_beat` set by the database clock (so machines whose clocks
disagree still agree on ages), the beat interval it promised, where its Prometheus metrics are
served, and a free-form `detail` (e.g. `broker_connected`). A row whose last beat is older than
`grace_s(interval)` is *missing*; a service that stops cleanly marks its row *stopped* instead.

Beats are advisory: a failed beat logs once and never stops the service that beats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from quant_db.schema import Heartbeat

log = logging.getLogger("quant.heartbeats")

BEAT_SECONDS = 10.0
BROKER_CONNECTED = "broker_connected"
"""Detail key: whether the service's broker session is connected (a bool)."""
BROKER_DOWN_SINCE = "broker_disconnected_since"
"""Detail key the beacon adds while `broker_connected` is false: since when (ISO 8601, UTC)."""

State = Literal["ok", "missing", "stopped"]


def grace_s(interval_s: float) -> float:
    """How long after its last beat a service counts as missing: three beats, at least 15 s."""
    return max(3 * interval_s, 15.0)


def instance_name() -> str:
    """`host:pid` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class ServiceBeat:
    """A service instance's last heartbeat, as read with the database clock."""

    service: str
    instance: str
    started_at: datetime
    last_beat: datetime
    age_s: float
    interval_s: float
    metrics_url: str | None
    detail: Mapping[str, Any]
    state: State


async def beat(
    session: AsyncSession,
    service: str,
    instance: str,
    *,
    started_at: datetime,
    interval_s: float = BEAT_SECONDS,
    metrics_url: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Insert or refresh the instance's row (the caller commits)."""
    values = {
        "service": service,
        "instance": instance,
        "started_at": started_at,
        "interval_s": interval_s,
        "metrics_url": metrics_url,
        "detail": dict(detail or {}),
        "stopped_at": None,
    }
    statement = insert(Heartbeat).values(**values, last_beat=func.now())
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Heartbeat.service, Heartbeat.instance],
            set_={**{k: statement.excluded[k] for k in values}, "last_beat": func.now()},
        )
    )


async def stopped(session: AsyncSession, service: str, instance: str) -> None:
    """Mark the instance as cleanly stopped (it is not reported missing)."""
    await session.execute(
        update(Heartbeat)
        .where(Heartbeat.service == service, Heartbeat.instance == instance)
        .values(stopped_at=func.now())
    )


async def last_beats(session: AsyncSession) -> list[ServiceBeat]:
    """Every instance's last heartbeat and its state, by service then instance."""
    age = func.extract("epoch", func.now() - Heartbeat.last_beat)
    rows = (
        await session.execute(
            select(Heartbeat, age).order_by(Heartbeat.service, Heartbeat.instance)
        )
    ).all()
    beats: list[ServiceBeat] = []
    for row, age_s in rows:
        seconds = float(age_s)
        state: State = (
            "stopped"
            if row.stopped_at is not None
            else "ok"
            if seconds <= grace_s(row.interval_s)
            else "missing"
        )
        beats.append(
            ServiceBeat(
                service=row.service,
                instance=row.instance,
                started_at=row.started_at,
                last_beat=row.last_beat,
                age_s=round(seconds, 3),
                interval_s=row.interval_s,
                metrics_url=row.metrics_url,
                detail=row.detail,
                state=state,
            )
        )
    return beats


class HeartbeatBeacon:
    """Beats for one service instance every `interval_s` while started.

    `detail` is called at each beat for the free-form detail (e.g. whether the broker is
    connected); while it says `broker_connected: False`, the beacon adds since when.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        service: str,
        *,
        instance: str | None = None,
        interval_s: float = BEAT_SECONDS,
        metrics_url: str | None = None,
        detail: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self._sessions = sessions
        self.service = service
        self.instance = instance or instance_name()
        self.interval_s = interval_s
        self.metrics_url = metrics_url
        self._detail = detail
        self.started_at = datetime.now(UTC)
        self._down_since: datetime | None = None
        self._healthy: bool | None = None
        self._task: asyncio.Task[None] | None = None
        self._engine: AsyncEngine | None = None

    @classmethod
    def from_url(cls, url: str, service: str, **options: Any) -> HeartbeatBeacon:
        """A beacon with an engine of its own on `url` (disposed when it stops)."""
        engine = create_async_engine(url, pool_size=1, max_overflow=0)
        beacon = cls(async_sessionmaker(engine, expire_on_commit=False), service, **options)
        beacon._engine = engine
        return beacon

    def snapshot(self) -> dict[str, Any]:
        """The detail of the next beat."""
        detail = dict(self._detail()) if self._detail is not None else {}
        if detail.get(BROKER_CONNECTED) is False:
            self._down_since = self._down_since or datetime.now(UTC)
            detail.setdefault(BROKER_DOWN_SINCE, self._down_since.isoformat())
        else:
            self._down_since = None
        return detail

    async def beat(self) -> bool:
        """One beat; False (logged on the first failure only) when PostgreSQL did not take it."""
        try:
            async with self._sessions() as session:
                await beat(
                    session,
                    self.service,
                    self.instance,
                    started_at=self.started_at,
                    interval_s=self.interval_s,
                    metrics_url=self.metrics_url,
                    detail=self.snapshot(),
                )
                await session.commit()
        except Exception as exc:  # advisory: PostgreSQL away must never stop the service
            if self._healthy is not False:
                log.warning("heartbeat of %s failed: %s", self.service, type(exc).__name__)
            self._healthy = False
            return False
        if self._healthy is False:
            log.info("heartbeat of %s recovered", self.service)
        self._healthy = True
        return True

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"heartbeat {self.service}")

    async def _loop(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        """Stop beating and mark the row stopped (best effort)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            async with self._sessions() as session:
                await stopped(session, self.service, self.instance)
                await session.commit()
        except Exception as exc:
            log.warning("heartbeat of %s not marked stopped: %s", self.service, type(exc).__name__)
        if self._engine is not None:
            await self._engine.dispose()
