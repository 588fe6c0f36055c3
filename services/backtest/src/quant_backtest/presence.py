"""The worker's presence beacon: a Redis key refreshed every beat while the worker lives.

Presence is advisory (the dashboard shows who is alive and what it runs); the queue works without
it. So a Redis outage never stops the worker or its runs: a failed beat logs a warning once, is
retried at the next beat, and recovery is logged too. An embedded Valkey that died is started
again on its port (`revive`), so every client of it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from quant_db.presence import (
    BEAT_SECONDS,
    DEFAULT_PREFIX,
    TTL_SECONDS,
    WorkerPresence,
    connect,
    publish,
    withdraw,
    worker_id,
)

log = structlog.get_logger("quant.worker")


@dataclass(frozen=True, slots=True)
class PresenceSettings:
    """Where and how often a worker announces itself."""

    redis_url: str
    prefix: str = DEFAULT_PREFIX
    beat_seconds: float = BEAT_SECONDS
    ttl_seconds: int = TTL_SECONDS
    # starts the embedded Valkey again when a beat finds it gone; True when it had to
    revive: Callable[[], bool] | None = None


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200]


class PresenceBeacon:
    """Keeps `<prefix>:<host>:<pid>` alive in Redis while started; beats at once on a change."""

    def __init__(self, settings: PresenceSettings, concurrency: int) -> None:
        self.settings = settings
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.concurrency = concurrency
        self.started_at = datetime.now(UTC)
        self.current: set[uuid.UUID] = set()
        self._redis = connect(settings.redis_url)
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._healthy: bool | None = None  # unknown until the first beat
        self._revive_error: str | None = None

    @property
    def id(self) -> str:
        return worker_id(self.host, self.pid)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"presence {self.id}")

    def run_started(self, run_id: uuid.UUID) -> None:
        self.current.add(run_id)
        self._changed.set()

    def run_finished(self, run_id: uuid.UUID) -> None:
        self.current.discard(run_id)
        self._changed.set()

    def snapshot(self) -> WorkerPresence:
        return WorkerPresence(
            id=self.id,
            host=self.host,
            pid=self.pid,
            started_at=self.started_at,
            last_seen=datetime.now(UTC),
            concurrency=self.concurrency,
            current_runs=sorted(self.current),
        )

    async def beat(self) -> bool:
        """Publish the current state once; False (and a warning on the first failure) when
        Redis does not take it."""
        try:
            await publish(
                self._redis, self.settings.prefix, self.snapshot(), self.settings.ttl_seconds
            )
        except Exception as exc:  # any failure here is Redis being away: never fatal
            if self._healthy is not False:
                log.warning(
                    "worker.presence_failed",
                    worker=self.id,
                    error=_reason(exc),
                    retry_in_s=self.settings.beat_seconds,
                )
            self._healthy = False
            await self._revive()
            return False
        if self._healthy is False:
            log.info("worker.presence_recovered", worker=self.id)
        self._healthy = True
        return True

    async def _revive(self) -> None:
        if self.settings.revive is None:
            return
        try:
            restarted = await asyncio.to_thread(self.settings.revive)
        except Exception as exc:  # retried at the next beat; said once per new reason
            if _reason(exc) != self._revive_error:
                self._revive_error = _reason(exc)
                log.warning("worker.valkey_not_restarted", worker=self.id, error=str(exc)[:400])
            return
        self._revive_error = None
        if restarted:
            log.info("worker.valkey_restarted", worker=self.id, url=self.settings.redis_url)

    async def _loop(self) -> None:
        while True:
            self._changed.clear()
            await self.beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.settings.beat_seconds)

    async def stop(self) -> None:
        """Stop beating and delete the key (best effort: an unreachable Redis lets it expire)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await withdraw(self._redis, self.settings.prefix, self.host, self.pid)
        except Exception as exc:
            log.warning("worker.presence_not_withdrawn", worker=self.id, error=_reason(exc))
        finally:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
