"""Drains the delivery queue: routes new alerts, sends due deliveries concurrently, records outcomes.

Runs in the monitoring service's own process, never on the trading path: an order only ever
writes an alert row. A receiver that hangs holds one of `concurrency` slots until the attempt's
timeout, and the other deliveries keep flowing meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_monitoring import deliveries
from quant_monitoring.channel_config import ChannelsConfig
from quant_monitoring.deliveries import Claimed
from quant_monitoring.message import AlertMessage
from quant_monitoring.senders import Channel, DeliveryError, Senders

log = logging.getLogger("quant.monitoring.delivery")

Send = Callable[[Channel, AlertMessage], Awaitable[None]]


class Dispatcher:
    """Moves alerts from the `alerts` table to their channels."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: ChannelsConfig,
        *,
        poll_s: float = 1.0,
        send: Send | None = None,
    ) -> None:
        self._sessions = sessions
        self.config = config
        self.rules = config.delivery
        self.poll_s = poll_s
        self._senders = Senders(self.rules.timeout_s)
        self._send = send or self._senders.send
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def route(self) -> int:
        """Queue new alerts for their channels; how many alerts were routed."""
        async with self._sessions() as session:
            routed = await deliveries.route(
                session, self.config.channels, self.rules.dedupe_window_s
            )
            await session.commit()
        return routed

    async def pump(self) -> int:
        """Route, then start sending what is due in the free slots; how many sends started."""
        await self.route()
        free = self.rules.concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        # the lease outlives an attempt's timeout, so a live sender never loses its row
        lease = self.rules.timeout_s * 2 + 5
        async with self._sessions() as session:
            claimed = await deliveries.claim(
                session, free, lease, [c.name for c in self.config.channels]
            )
            await session.commit()
        for item in claimed:
            task = asyncio.create_task(self._deliver(item), name=f"delivery {item.delivery_id}")
            self._in_flight.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()  # a slot is free: look for more work at once

    async def _deliver(self, item: Claimed) -> None:
        channel = self.config.channel(item.channel)
        if channel is None:  # cannot happen: only known channels are claimed
            return
        outcome: str
        try:
            await self._send(channel, item.alert)
        except DeliveryError as exc:
            outcome = await self._record_failure(item, exc)
        except Exception as exc:  # a bug in a sender must not kill the dispatcher
            outcome = await self._record_failure(item, DeliveryError(type(exc).__name__))
        else:
            async with self._sessions() as session:
                await deliveries.delivered(session, item.delivery_id)
                await session.commit()
            outcome = "delivered"
        log.info(
            "delivery %s of alert %s to %s: %s (attempt %d)",
            item.delivery_id,
            item.alert.alert_id,
            item.channel,
            outcome,
            item.attempts,
        )

    async def _record_failure(self, item: Claimed, exc: DeliveryError) -> str:
        last = exc.permanent or item.attempts >= self.rules.max_attempts
        async with self._sessions() as session:
            if last:
                await deliveries.failed(session, item.delivery_id, exc.reason)
            else:
                delay = max(self.rules.backoff(item.attempts), exc.retry_after or 0.0)
                await deliveries.retry_later(session, item.delivery_id, exc.reason, delay)
            await session.commit()
        return f"failed for good: {exc.reason}" if last else f"will retry: {exc.reason}"

    async def run(self, stop: asyncio.Event) -> None:
        """Pump every `poll_s` (or as soon as a slot frees) until `stop`; then let sends finish
        within their timeout."""
        while not stop.is_set():
            try:
                await self.pump()
            except Exception as exc:  # PostgreSQL away: alerts wait in the table, try again
                log.warning("alert delivery paused: %s", type(exc).__name__)
            self._wake.clear()
            waiters = {asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())}
            try:
                await asyncio.wait(
                    waiters, timeout=self.poll_s, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for waiter in waiters:
                    waiter.cancel()
        await self.drain()

    async def drain(self) -> None:
        """Wait for the sends in flight (each is bounded by its timeout)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def close(self) -> None:
        await self.drain()
        await self._senders.close()
