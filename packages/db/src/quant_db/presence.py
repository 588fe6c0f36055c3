"""Worker presence in Redis: each live worker keeps a short-lived key saying who it is and what it runs.

The contract between the backtest worker (writer) and the API (reader): one key per worker,
`<prefix>:<host>:<pid>`, holding a `WorkerPresence` as JSON with a TTL. A worker refreshes its key
well within the TTL and deletes it on a clean stop, so a worker that died simply expires.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, ValidationError
from redis.asyncio import Redis

from quant_db.settings import WORKER_KEY_PREFIX

DEFAULT_PREFIX = WORKER_KEY_PREFIX
TTL_SECONDS = 30
BEAT_SECONDS = 10.0
# fail fast when Redis is away: a presence beat must never hold up a worker or a health probe
_TIMEOUT_S = 2
_GLOB_SPECIALS = str.maketrans({c: f"\\{c}" for c in "*?[]\\"})


class WorkerPresence(BaseModel):
    """What a live worker says about itself."""

    id: str = Field(description="host:pid")
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    concurrency: int = Field(description="runs the worker executes at once")
    current_runs: list[uuid.UUID] = Field(description="ids of the runs it is executing now")


def worker_id(host: str, pid: int) -> str:
    return f"{host}:{pid}"


def presence_key(prefix: str, host: str, pid: int) -> str:
    return f"{prefix}:{worker_id(host, pid)}"


def connect(url: str) -> Redis:
    """A client for `url` that gives up within two seconds when the server is unreachable."""
    return Redis.from_url(url, socket_timeout=_TIMEOUT_S, socket_connect_timeout=_TIMEOUT_S)


async def publish(redis: Redis, prefix: str, presence: WorkerPresence, ttl: int) -> None:
    """Write (or refresh) the worker's key; it expires after `ttl` seconds unless refreshed."""
    key = presence_key(prefix, presence.host, presence.pid)
    await redis.set(key, presence.model_dump_json(), ex=ttl)


async def withdraw(redis: Redis, prefix: str, host: str, pid: int) -> None:
    await redis.delete(presence_key(prefix, host, pid))


async def alive(redis: Redis, prefix: str) -> list[WorkerPresence]:
    """Every worker whose key has not expired, by id; unreadable entries are left out."""
    # SCAN walks the whole keyspace (rate-limit counters too): big steps, few round trips
    pattern = f"{prefix.translate(_GLOB_SPECIALS)}:*"
    keys = [key async for key in redis.scan_iter(match=pattern, count=1000)]
    if not keys:
        return []
    workers: list[WorkerPresence] = []
    for value in await redis.mget(keys):
        if value is None:  # expired between SCAN and MGET
            continue
        try:
            workers.append(WorkerPresence.model_validate_json(value))
        except ValidationError:
            continue
    return sorted(workers, key=lambda w: w.id)
