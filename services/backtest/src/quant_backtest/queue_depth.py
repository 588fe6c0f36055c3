"""The run queue's depth by entrypoint and status, read from pgqueuer's table at scrape time."""

from __future__ import annotations

import asyncpg
from pgqueuer import AsyncpgDriver, Queries

from quant_db.jobs import RUN_ENTRYPOINT
from quant_db.urls import asyncpg_dsn

CONNECT_TIMEOUT_S = 2.0
STATUSES = ("queued", "picked")
"""The statuses reported even when empty, so a dashboard shows 0 rather than no data."""


async def queue_depth(url: str) -> dict[tuple[str, ...], float]:
    """Jobs per (entrypoint, status) on a short connection of its own (pgqueuer holds the
    worker's connection, and an asyncpg connection runs one query at a time)."""
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=CONNECT_TIMEOUT_S)
    try:
        stats = await Queries(AsyncpgDriver(connection)).queue_size()
    finally:
        await connection.close()
    depth: dict[tuple[str, ...], float] = {(RUN_ENTRYPOINT, s): 0.0 for s in STATUSES}
    for row in stats:
        key = (str(row.entrypoint), str(row.status))
        depth[key] = depth.get(key, 0.0) + row.count
    return depth
