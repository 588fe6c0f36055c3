"""The live feeds' health in Redis: the state of record the execution service reads before an entry.

The contract between the data service (writer) and the execution service (reader), ADR 0037:

- One hash per feed source, `quant:feed_health:<source>` (e.g. `quant:feed_health:alpaca`), one
  field per subscribed symbol holding a `FeedHealth` as JSON. The data service rewrites every
  field at least once a second while it runs and sets the key to expire `TTL_SECONDS` later, so
  a data service that died leaves no key behind.
- A broadcast `FeedHealthChanged` on `data.feed_health` announces each change; a reader that
  was away misses it, so it reads the hash where it matters (before every new entry).
- `entries_allowed` is the rule: a new entry on a symbol whose bars come from a live feed is
  allowed only when its field exists, was written within `MAX_AGE`, and is not `block` (fail
  closed: no key, no field, an unreadable value or Redis unreachable all mean no new entry).
  Exits and reductions are never blocked by the feed's health.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from redis.asyncio import Redis

from quant_bus.streams import UtcDatetime

KEY_PREFIX = "quant:feed_health"
TTL_SECONDS = 15
MAX_AGE = timedelta(seconds=10)
"""How old a field may be before the reader treats its symbol as blocked."""

State = Literal["ok", "warn", "block"]


class FeedHealth(BaseModel):
    """One symbol of one live feed: its state, since when, its last source bar, when written."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    symbol: str
    state: State
    since: UtcDatetime
    last_bar_at: UtcDatetime | None = None
    updated_at: UtcDatetime


def health_key(source: str) -> str:
    return f"{KEY_PREFIX}:{source}"


async def write_health(redis: Redis, source: str, healths: Iterable[FeedHealth]) -> None:
    """Write every symbol's health of `source` and push the key's expiry `TTL_SECONDS` out."""
    fields = {h.symbol: h.model_dump_json() for h in healths}
    if not fields:
        return
    key = health_key(source)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
        pipe.expire(key, TTL_SECONDS)
        await pipe.execute()


async def read_health(redis: Redis, source: str) -> dict[str, FeedHealth]:
    """Every symbol's health of `source` as last written; unreadable fields are left out."""
    raw: Mapping[bytes | str, bytes | str] = await redis.hgetall(health_key(source))
    out: dict[str, FeedHealth] = {}
    for value in raw.values():
        try:
            health = FeedHealth.model_validate_json(value)
        except ValidationError:
            continue
        out[health.symbol] = health
    return out


async def remove_health(redis: Redis, source: str, symbols: Iterable[str]) -> None:
    """Withdraw `symbols` of `source` (a clean stop): their entries are blocked from now on."""
    chosen = list(symbols)
    if chosen:
        await redis.hdel(health_key(source), *chosen)


def entries_allowed(
    healths: Mapping[str, FeedHealth], symbol: str, now: datetime, max_age: timedelta = MAX_AGE
) -> bool:
    """Whether a new entry on `symbol` may go out, by the rule in this module's docstring."""
    health = healths.get(symbol)
    return health is not None and health.state != "block" and now - health.updated_at <= max_age
