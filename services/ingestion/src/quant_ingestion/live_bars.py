"""The data service's live bars: a live source aggregated on the calendar, published as `BarClosed`.

Source bars (Alpaca minute bars, IB 5-second bars) go through quant_marketdata's aggregator and
leave as closed bars of the strategy's timeframe on `bars.closed`, in the same event a replay
publishes (same key scheme, `bars_in_step` set, so the execution service runs a step as soon as
it has it). The staleness watchdog is checked every tick: its changes are broadcast on
`data.feed_health`, every symbol's health is rewritten to the Redis hash the execution service
reads before an entry (quant_bus.feed_health), and a stale feed is told to reconnect. Steps that
could not be published (Redis away) wait in an outbox and go out, in order, once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis

from quant_bus.base import EventBus
from quant_bus.feed_health import FeedHealth, remove_health, write_health
from quant_bus.streams import BARS_CLOSED, FEED_HEALTH, FeedHealthChanged
from quant_domain import Bar, Timeframe
from quant_domain.time import utc_now
from quant_ingestion.bar_stream import bar_event
from quant_marketdata.aggregator import DEFAULT_GRACE, BarAggregator, Step
from quant_marketdata.live_source import LiveBarSource
from quant_marketdata.market_sessions import MarketSessions, SessionIntervals, watch_interval
from quant_marketdata.watchdog import DEFAULT_SLACK, FeedState, StalenessWatchdog, SymbolHealth

log = logging.getLogger("quant.ingestion.live")


@dataclass(slots=True)
class LiveFeedCounts:
    """What a run did so far (for the command's last line and for tests)."""

    steps: int = 0
    bars: int = 0
    forced_reconnects: int = 0
    health_changes: int = 0


class LiveBarFeed:
    """Runs `source` until stopped, publishing closed `timeframe` bars and the feed's health.

    `name` is the feed name both go out under (the execution service trades one named feed,
    ADR 0033); by default the source's own (`alpaca`).
    `clock` and `tick_s` are injectable so tests move time without waiting; `health` is the
    Redis client the health hash is written with (None: broadcasts only).
    """

    def __init__(
        self,
        bus: EventBus,
        source: LiveBarSource,
        *,
        timeframe: Timeframe,
        calendar: str = "XNYS",
        name: str | None = None,
        health: Redis | None = None,
        clock: Callable[[], datetime] = utc_now,
        tick_s: float = 1.0,
        grace: timedelta = DEFAULT_GRACE,
        slack: timedelta = DEFAULT_SLACK,
    ) -> None:
        self.bus = bus
        self.source = source
        self.name = name or source.name
        self.timeframe = timeframe
        self.counts = LiveFeedCounts()
        self._health = health
        self._clock = clock
        self._tick_s = tick_s
        sessions = MarketSessions(calendar)
        self.aggregator = BarAggregator(
            SessionIntervals(timeframe, sessions),
            source.symbols,
            source=source.bar_length,
            grace=grace,
        )
        self.watchdog = StalenessWatchdog(
            source.symbols, sessions, watch_interval(timeframe), started=clock(), slack=slack
        )
        self._announced = {h.symbol: h.state for h in self.watchdog.snapshot()}
        self._outbox: list[Step] = []
        self._publishing = asyncio.Lock()  # the tick and the bar handler both flush

    async def run(self, stop: asyncio.Event) -> LiveFeedCounts:
        """Stream until `stop` is set; the source's fatal error (refused keys) propagates."""
        feeding = asyncio.create_task(self.source.run(self._on_bar, stop))
        try:
            while not stop.is_set():
                if feeding.done():
                    feeding.result()  # raises what ended it
                    break
                await self.tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._tick_s)
            await feeding
        finally:
            if not feeding.done():
                feeding.cancel()
            await self._withdraw()
        return self.counts

    async def tick(self) -> None:
        """Close the steps due now, grade the feed, and publish both."""
        now = self._clock()
        self._outbox += self.aggregator.close_due(now)
        report = self.watchdog.check(now)
        if report.reconnect:
            self.counts.forced_reconnects += 1
            log.warning("%s feed is quiet; forcing a reconnect", self.name)
            self.source.reconnect()
        await self._flush()
        for change in report.changed:
            await self._announce(change, now)
        await self._write_health(now)

    async def _on_bar(self, bar: Bar) -> None:
        now = self._clock()
        back = self.watchdog.saw(bar.symbol, now)
        self._outbox += self.aggregator.add(bar)
        await self._flush()
        if back is not None:
            await self._announce(back, now)

    async def _flush(self) -> None:
        """Publish the held steps in order; on an unreachable bus keep the rest for later."""
        async with self._publishing:
            await self._flush_held()

    async def _flush_held(self) -> None:
        while self._outbox:
            label, bars = self._outbox[0]
            try:
                for bar in bars:  # the same keys on a retry: consumers take each bar once
                    await self.bus.publish(
                        BARS_CLOSED,
                        bar_event(
                            bar,
                            source=self.name,
                            timeframe=str(self.timeframe),
                            bars_in_step=len(bars),
                        ),
                    )
            except self.bus.unreachable as exc:
                log.error("bus unreachable, holding %d step(s): %s", len(self._outbox), exc)
                return
            self._outbox.pop(0)
            self.counts.steps += 1
            self.counts.bars += len(bars)
            log.info("published %d %s bar(s) of %s", len(bars), self.timeframe, label)

    async def _announce(self, health: SymbolHealth, now: datetime) -> None:
        previous = self._announced.get(health.symbol, FeedState.OK)
        self._announced[health.symbol] = health.state
        self.counts.health_changes += 1
        log.warning("%s %s: %s -> %s", self.name, health.symbol, previous, health.state)
        event = FeedHealthChanged(
            idempotency_key=f"feed:{self.name}:{health.symbol}:{health.state}:"
            f"{health.since.isoformat()}",
            source=self.name,
            symbol=health.symbol,
            state=health.state.value,
            previous=previous.value,
            since=health.since,
            last_bar_at=health.last_bar_at,
            timestamp=now,
        )
        try:
            await self.bus.broadcast(FEED_HEALTH, event)
        except self.bus.unreachable as exc:  # the hash (rewritten every tick) is the record
            log.error("could not broadcast feed health: %s", exc)

    async def _write_health(self, now: datetime) -> None:
        if self._health is None:
            return
        healths = [
            FeedHealth(
                source=self.name,
                symbol=h.symbol,
                state=h.state.value,
                since=h.since,
                last_bar_at=h.last_bar_at,
                updated_at=now,
            )
            for h in self.watchdog.snapshot()
        ]
        try:
            await write_health(self._health, self.name, healths)
        except self.bus.unreachable as exc:  # readers fail closed once the hash expires
            log.error("could not write feed health: %s", exc)

    async def _withdraw(self) -> None:
        if self._health is None:
            return
        try:
            await remove_health(self._health, self.name, self.source.symbols)
        except self.bus.unreachable as exc:
            log.error("could not withdraw feed health (it expires by itself): %s", exc)
