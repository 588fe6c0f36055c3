"""Alert rules over the bus: consumer-group lag, stale pending entries, dead letters.

Read straight from Redis (XINFO GROUPS, XPENDING, XLEN, XREVRANGE); entry ids carry the time
they were added. Stale market data is judged per feed and symbol (quant_monitoring.feed_staleness).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from quant_bus.streams import BINDINGS, dead_letter_stream
from quant_db.alerts import Severity
from quant_monitoring.rules import Finding, Thresholds


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def durable_streams() -> list[str]:
    return sorted(b.name for b in BINDINGS.values() if b.durable)


async def lagging_groups(redis: Redis, t: Thresholds) -> list[Finding]:
    """Groups more than `t.stream_lag` entries behind, or with an entry pending too long."""
    found: list[Finding] = []
    for stream in durable_streams():
        if not await redis.exists(stream):
            continue
        for group in await redis.xinfo_groups(stream):
            name = _text(group["name"])
            lag = group.get("lag")
            if lag is not None and int(lag) > t.stream_lag:
                found.append(
                    Finding(
                        key=f"stream_lag:{stream}:{name}",
                        severity=Severity.WARNING,
                        title=f"{stream}: group {name} lags",
                        message=f"group {name} of {stream} is {int(lag)} entries behind",
                        context={"stream": stream, "group": name, "lag": int(lag)},
                    )
                )
            if int(group.get("pending", 0)) == 0:
                continue
            oldest = await redis.xpending_range(stream, name, min="-", max="+", count=1)
            idle_s = int(oldest[0]["time_since_delivered"]) / 1000 if oldest else 0.0
            if idle_s > t.pending_idle_s:
                found.append(
                    Finding(
                        key=f"stream_pending:{stream}:{name}",
                        severity=Severity.WARNING,
                        title=f"{stream}: group {name} has a stuck entry",
                        message=f"an entry of {stream} handed to group {name} has waited "
                        f"{idle_s:.0f} s for its acknowledgement",
                        context={"stream": stream, "group": name, "idle_s": round(idle_s, 1)},
                    )
                )
    return found


async def dead_letters(redis: Redis) -> list[Finding]:
    """One alert per newest dead letter of each stream (a new one raises again)."""
    found: list[Finding] = []
    for stream in durable_streams():
        dead = dead_letter_stream(stream)
        count = int(await redis.xlen(dead))
        if count == 0:
            continue
        newest = await redis.xrevrange(dead, count=1)
        last_id = _text(newest[0][0]) if newest else "?"
        raw = (newest[0][1] if newest else None) or {}
        fields = {_text(k): _text(v) for k, v in raw.items()}
        found.append(
            Finding(
                key=f"dead_letters:{stream}:{last_id}",
                severity=Severity.CRITICAL,
                title=f"{stream}: events dead-lettered",
                message=f"{count} entries of {stream} are in {dead}; the newest: "
                f"{fields.get('reason', 'no reason recorded')[:200]}",
                context={"stream": stream, "dead_letters": count, "newest": last_id},
            )
        )
    return found
