"""Alert rule over the live feeds' health: per feed and symbol, what the data service's watchdog says.

The watchdog (quant_marketdata.watchdog) grades each symbol of a live feed against its own bar
interval, so a 5-minute feed is not stale after three quiet minutes, and writes the grade to
`quant:feed_health:<feed>` (quant_bus.feed_health). This rule reads those hashes during market
hours: a symbol at `warn` (two intervals without a bar; the feed is reconnecting) is a warning,
one at `block` (five intervals; the execution service refuses its new entries) is critical, each
under its own key per feed, symbol and state, so a warning that becomes a block alerts again. A
live feed the execution service trades (its heartbeat says so) with no hash at all means the
data service is not running: critical too. Replay feeds have no hash and are not watched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from redis.asyncio import Redis

from quant_bus.feed_health import KEY_PREFIX, FeedHealth, health_key, read_health
from quant_db.alerts import Severity
from quant_db.heartbeats import ServiceBeat
from quant_monitoring.rules import Finding

EXECUTION = "execution"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def live_feeds(beats: Sequence[ServiceBeat]) -> set[str]:
    """The live feeds execution services that are beating say they trade."""
    return {
        str(b.detail["feed"])
        for b in beats
        if b.service == EXECUTION
        and b.state == "ok"
        and b.detail.get("feed_kind") == "live"
        and b.detail.get("feed")
    }


async def health_feeds(redis: Redis) -> set[str]:
    """The feeds with a health hash in Redis now."""
    prefix = f"{KEY_PREFIX}:"
    return {_text(key).removeprefix(prefix) async for key in redis.scan_iter(match=f"{prefix}*")}


def _finding(feed: str, health: FeedHealth) -> Finding:
    symbol = health.symbol
    last = (
        "no bar since the feed started"
        if health.last_bar_at is None
        else f"its last bar arrived at {health.last_bar_at.isoformat()}"
    )
    context = {
        "feed": feed,
        "symbol": symbol,
        "state": health.state,
        "since": health.since.isoformat(),
        "last_bar_at": None if health.last_bar_at is None else health.last_bar_at.isoformat(),
    }
    if health.state == "block":
        return Finding(
            key=f"stale_data:{feed}:{symbol}:block",
            severity=Severity.CRITICAL,
            title=f"{feed}: {symbol} data is stale, entries blocked",
            message=f"feed {feed!r} has had no {symbol} bar for five intervals ({last}): no "
            f"new entry in {symbol} leaves until its bars come back; exits still do",
            context=context,
        )
    return Finding(
        key=f"stale_data:{feed}:{symbol}:warn",
        severity=Severity.WARNING,
        title=f"{feed}: {symbol} bars are late",
        message=f"feed {feed!r} has had no {symbol} bar for two intervals ({last}); the data "
        "service is reconnecting",
        context=context,
    )


async def stale_feeds(
    redis: Redis, market_open: bool, expected: Iterable[str] = ()
) -> list[Finding]:
    """While the market is open: each symbol of a live feed at warn or block, and each feed in
    `expected` (the live feeds being traded) with no health in Redis."""
    if not market_open:
        return []
    present = await health_feeds(redis)
    found = [
        Finding(
            key=f"stale_data:{feed}:no_health",
            severity=Severity.CRITICAL,
            title=f"{feed}: no live data",
            message=f"the execution service trades live feed {feed!r} but {health_key(feed)} is "
            "not in Redis: its data service (`quant data stream`) is not running, so every new "
            "entry is refused",
            context={"feed": feed},
        )
        for feed in sorted(set(expected) - present)
    ]
    for feed in sorted(present):
        healths = await read_health(redis, feed)
        found += [_finding(feed, h) for _, h in sorted(healths.items()) if h.state != "ok"]
    return found
