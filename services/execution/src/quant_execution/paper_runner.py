"""The paper runner: one strategy's PaperSession fed from `bars.closed`, orders written ahead.

Each batch the bus hands over is assembled into steps (quant_execution.steps); each complete
step runs through the session in a worker thread (the decision loop is synchronous), where the
PostgreSQL journal writes every order before the paper broker sees it, by running its store
calls on this event loop. The bus acknowledges a batch only after this handler returns, that is
after the step's orders and fills are committed.

The kill switch holds two ways: the persisted mode is read before every step (so it holds even
when a broadcast is lost, and after a restart), and `watch_kill_switch` applies a broadcast at
once, between bars (a flatten does not wait for the next bar).

Not here yet (issue 12): rebuilding a session after a crash from the stored orders and the
stream's history, reconciliation at start-up and the service's CLI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime

from quant_bus.base import Consumer, Delivery, EventBus
from quant_bus.streams import BARS_CLOSED, KILL_SWITCH, BarClosedEvent, KillSwitchChanged
from quant_domain import KillSwitchMode
from quant_engine import EngineRun
from quant_engine.paper import PaperSession
from quant_execution.steps import StepAssembler


class PaperRunner:
    """Runs `session` on the bars the bus delivers to consumer `name` of `group`."""

    def __init__(
        self,
        bus: EventBus,
        session: PaperSession,
        *,
        group: str,
        name: str,
        kill_switch: Callable[[], Awaitable[KillSwitchMode]] | None = None,
        source: str | None = None,
        symbols: Collection[str] | None = None,
        before_first_step: Callable[[datetime], Awaitable[None]] | None = None,
        after_step: Callable[[datetime], Awaitable[None]] | None = None,
        new_only: bool = False,
        **consumer: int,
    ) -> None:
        """`kill_switch` reads the persisted mode (quant_db.controls); it is read before every
        step, and an error reading it stops the runner rather than trade on a stale mode.
        `source` keeps the session to one feed's bars (a replay's own, say): others on the
        stream are acknowledged and left alone."""
        self.bus = bus
        self.session = session
        self._read_mode = kill_switch
        self._source = source
        self._symbols = None if symbols is None else frozenset(symbols)
        self._before_first_step = before_first_step
        self._after_step = after_step
        self.consumer = Consumer(BARS_CLOSED, group, name, new_only=new_only, **consumer)
        self.steps = StepAssembler()
        self.processed = 0  # steps run through the session
        # a step and a broadcast mode change never run in the session at the same time
        self._one_at_a_time = asyncio.Lock()

    async def handle(self, deliveries: Sequence[Delivery]) -> None:
        """The bus handler: assemble, then run each complete step (returns after its commits)."""
        for delivery in deliveries:
            event = delivery.event
            assert isinstance(event, BarClosedEvent)  # the stream's bound type
            if self._source is not None and event.source != self._source:
                continue
            for now, step in self.steps.add(event):
                bars = (
                    step
                    if self._symbols is None
                    else [b for b in step if b.symbol in self._symbols]
                )
                if not bars:
                    continue
                if self._before_first_step is not None:
                    first, self._before_first_step = self._before_first_step, None
                    await first(now)
                async with self._one_at_a_time:
                    if self._read_mode is not None:
                        await self._set_mode(await self._read_mode())
                    await asyncio.to_thread(self.session.on_bars, now, bars)
                    self.processed += 1
                    if self._after_step is not None:  # no mode change runs in the middle of it
                        await self._after_step(now)

    async def apply_mode(self, mode: KillSwitchMode) -> None:
        """Put the session in `mode` (flatten_and_halt closes everything at once)."""
        async with self._one_at_a_time:
            await self._set_mode(mode)

    async def _set_mode(self, mode: KillSwitchMode) -> None:
        if mode != self.session.mode:
            await asyncio.to_thread(self.session.set_mode, mode)

    async def watch_kill_switch(self, stop: asyncio.Event) -> None:
        """Apply each kill-switch broadcast as it arrives, until `stop` is set."""
        async with self.bus.subscribe(KILL_SWITCH) as changes:
            while not stop.is_set():
                change = await changes.get(timeout=0.1)
                if isinstance(change, KillSwitchChanged):
                    await self.apply_mode(change.mode)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set (the long-running service's way)."""
        await self.bus.run(self.consumer, self.handle, stop)

    async def run_until(self, steps: int, timeout: float) -> None:
        """Consume until `steps` steps have run (a replay of known length), or fail after
        `timeout` seconds. A Redis outage meanwhile is ridden out by the bus (it retries, then
        drains its own pending entries first): no bar arrives, so no order is sent, and the
        session resumes by itself when the server is back."""
        stop = asyncio.Event()
        consuming = asyncio.create_task(self.bus.run(self.consumer, self.handle, stop))
        try:
            async with asyncio.timeout(timeout):
                while self.processed < steps:
                    if consuming.done():
                        consuming.result()  # the handler failed: raise its error here
                        return
                    await asyncio.sleep(0.002)
        finally:
            stop.set()
            await consuming

    def close(self) -> EngineRun:
        """End the session (its last session ends, working orders are cancelled)."""
        return self.session.close()
