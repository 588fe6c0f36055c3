"""The data service's bar stream: stored bars replayed onto the bus as `BarClosed` events.

Each replay step (quant_marketdata.replay: every symbol that traded at one time) is published
bar by bar on `bars.closed`, each event saying how many bars its step holds, so the execution
service knows when it has the whole step. Paced at a chosen speed (`1x`, `60x`, `max`). The
idempotency key names the bar (source, symbol, timeframe, time): publishing the same history
twice gives the same keys, and a consumer skips what it processed already.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pandas as pd

from quant_bus.base import EventBus
from quant_bus.streams import BARS_CLOSED, BarClosedEvent
from quant_domain import Bar
from quant_marketdata.replay import Replay, replay_steps
from quant_telemetry import LastBarAges


def bar_key(source: str, symbol: str, timeframe: str, stamp: pd.Timestamp | str) -> str:
    return f"bar:{source}:{symbol}:{timeframe}:{pd.Timestamp(stamp).isoformat()}"


def bar_event(bar: Bar, *, source: str, timeframe: str, bars_in_step: int) -> BarClosedEvent:
    """The `BarClosed` event for one bar of a step (a replay's and a live feed's alike)."""
    return BarClosedEvent(
        idempotency_key=bar_key(source, bar.symbol, timeframe, pd.Timestamp(bar.timestamp)),
        symbol=bar.symbol,
        timeframe=timeframe,
        timestamp=bar.timestamp,
        open=bar.open,
        high=bar.high,
        low=bar.low,
        close=bar.close,
        volume=bar.volume,
        source=source,
        bars_in_step=bars_in_step,
    )


async def publish_replay(
    bus: EventBus,
    frames: Mapping[str, pd.DataFrame],
    *,
    source: str,
    timeframe: str = "1d",
    speed: float | None = None,
    ages: LastBarAges | None = None,
) -> int:
    """Publish every bar of `frames` step by step on `bars.closed`; returns the steps sent.

    `speed` paces the steps (None: as fast as the bus takes them), waiting with asyncio.sleep;
    `ages` (the data service's last-bar-age gauge) learns of each bar once it is published.
    """
    steps = 0
    pace = Replay(iter(()), speed)
    for now, bars in replay_steps(frames):
        delay = pace.delay(now)
        if delay > 0:
            await asyncio.sleep(delay)
        for bar in bars:
            await bus.publish(
                BARS_CLOSED,
                bar_event(
                    bar._replace(timestamp=now),
                    source=source,
                    timeframe=timeframe,
                    bars_in_step=len(bars),
                ),
            )
            if ages is not None:
                ages.mark(bar.symbol)
        steps += 1
    return steps
