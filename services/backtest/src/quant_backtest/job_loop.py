"""The worker's job loop: pgqueuer on the platform's PostgreSQL, surviving its outages.

Jobs are taken with SKIP LOCKED and run by RunExecutor. When PostgreSQL goes away the loop stops
taking jobs, abandons the run in progress as a dead worker would (it is tried again), waits for
the database through DatabaseLink and starts over, first requeueing runs whose job got lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from pgqueuer import AsyncpgDriver, Job, Queries, QueueManager
from pgqueuer.domain.types import QueueExecutionMode

from quant_backtest.database_link import DatabaseLink, DatabaseLost, close_quietly
from quant_backtest.presence import PresenceBeacon, PresenceSettings
from quant_backtest.worker import RunExecutor
from quant_db.heartbeats import HeartbeatBeacon
from quant_db.jobs import RUN_ENTRYPOINT, requeue_orphans
from quant_db.outages import database_unreachable

log = structlog.get_logger("quant.worker")


async def serve(
    url: str,
    *,
    heartbeat_timeout: timedelta = timedelta(seconds=30),
    drain: bool = False,
    concurrency: int = 1,
    stop: asyncio.Event | None = None,
    presence: PresenceSettings | None = None,
    link: DatabaseLink | None = None,
) -> None:
    """Process run jobs until stopped (or, with `drain`, until the queue is empty).

    When PostgreSQL is unreachable, at start or later, the worker waits for it (see
    DatabaseLink) and carries on; a run interrupted by the outage is tried again. With
    `presence`, the worker announces itself and its current runs in Redis while it serves.
    """
    stop = stop or asyncio.Event()
    link = link or DatabaseLink(url)
    beacon = None if presence is None else PresenceBeacon(presence, concurrency)
    if beacon is not None:
        beacon.start()
    # the monitoring service's heartbeat (PostgreSQL), beside the dashboard's presence (Redis)
    heartbeat = HeartbeatBeacon.from_url(
        url,
        "worker",
        detail=lambda: {
            "concurrency": concurrency,
            "current_runs": [] if beacon is None else sorted(str(r) for r in beacon.current),
        },
    )
    heartbeat.start()
    try:
        abandoned_at: float | None = None  # when this worker last abandoned a run
        with link.quiet_pgqueuer():
            while (connection := await link.connect(stop)) is not None:
                try:
                    requeued = await requeue_orphans(connection)
                    if requeued:
                        log.info("worker.runs_requeued", runs=[str(r) for r in requeued])
                    if drain and abandoned_at is not None:
                        # the abandoned run's job stays picked until its heartbeat is stale:
                        # a draining worker waits for that, or it would find the queue empty
                        # and leave the run behind (a fast compiled run loses the database
                        # between computing and storing, well inside the heartbeat timeout)
                        left = heartbeat_timeout.total_seconds() + 0.5
                        await asyncio.sleep(max(0.0, left - (time.monotonic() - abandoned_at)))
                    await _take_jobs(
                        connection, url, heartbeat_timeout, drain, concurrency, stop, beacon, link
                    )
                    return
                except Exception as exc:
                    if not (isinstance(exc, DatabaseLost) or database_unreachable(exc)):
                        raise
                    if isinstance(exc, DatabaseLost):
                        abandoned_at = time.monotonic()
                    link.lost(exc)
                finally:
                    await close_quietly(connection)
    finally:
        await heartbeat.stop()
        if beacon is not None:
            await beacon.stop()


async def _take_jobs(
    connection: asyncpg.Connection[Any],
    url: str,
    heartbeat_timeout: timedelta,
    drain: bool,
    concurrency: int,
    stop: asyncio.Event,
    beacon: PresenceBeacon | None,
    link: DatabaseLink,
) -> None:
    """pgqueuer on `connection` until stopped or drained; DatabaseLost when a run lost the
    database (pgqueuer's own queries failing raise their error)."""
    executor = RunExecutor(url)
    manager = QueueManager(Queries(AsyncpgDriver(connection)))
    lost: list[DatabaseLost] = []  # what a run ran into, when it lost the database
    run_lost = asyncio.Event()
    handlers: set[asyncio.Task[Any]] = set()  # pgqueuer's tasks running `handle`

    # pgqueuer needs max_concurrent_tasks >= 2 x batch size, so a worker may hold one more picked
    # job than it runs; the semaphore keeps the CPU-bound runs to `concurrency` at a time
    running = asyncio.Semaphore(concurrency)

    @manager.entrypoint(RUN_ENTRYPOINT)
    async def handle(job: Job) -> None:
        if job.payload is None:
            return
        run_id = uuid.UUID(bytes=bytes(job.payload))
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            async with running:
                if beacon is not None:
                    beacon.run_started(run_id)
                try:
                    await executor.execute(run_id)
                except DatabaseLost as exc:
                    lost.append(exc)
                    run_lost.set()
                    # abandoned like a dying worker's: no outcome for pgqueuer to record (nor a
                    # traceback to log) until `_take_jobs` cancels this wait. The job then stays
                    # picked and is taken again once its heartbeat is stale, or, if pgqueuer
                    # drops it, requeue_orphans gives the run a new one
                    await asyncio.Event().wait()
                finally:
                    if beacon is not None:
                        beacon.run_finished(run_id)
        finally:
            handlers.discard(task)

    async def watch_stop() -> None:
        await stop.wait()
        manager.shutdown.set()

    queue = asyncio.create_task(
        manager.run(
            dequeue_timeout=timedelta(seconds=1),
            batch_size=1,
            mode=QueueExecutionMode.drain if drain else QueueExecutionMode.continuous,
            max_concurrent_tasks=2 * concurrency,
            heartbeat_timeout=heartbeat_timeout,
        )
    )
    watchers = [asyncio.create_task(watch_stop()), asyncio.create_task(run_lost.wait())]
    try:
        await asyncio.wait({queue, watchers[1]}, return_when=asyncio.FIRST_COMPLETED)
        if lost:
            link.lost(lost[0])  # before the teardown, so pgqueuer's reports of it stay quiet
            raise lost[0]
        await queue  # finished: stopped, drained, or failed with pgqueuer's own error
    finally:
        for watcher in watchers:
            watcher.cancel()
        if not queue.done():
            # the runs first: pgqueuer waits for its tasks before it returns, even cancelled
            for task in handlers:
                task.cancel()
            queue.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await queue
