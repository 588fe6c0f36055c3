"""The paper runner: one strategy's PaperSession fed from `bars.closed`, orders written ahead.

Each batch the bus hands over is assembled into steps (quant_execution.steps); each complete
step runs through the session in a worker thread (the decision loop is synchronous), where the
PostgreSQL journal writes every order before the paper broker sees it, by running its store
calls on this event loop. The bus acknowledges a batch only after this handler returns, that is
after the step's orders and fills are committed.

Not here yet (issue 12): rebuilding a session after a crash from the stored orders and the
stream's history, the kill-switch broadcast, reconciliation at start-up and the service's CLI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from quant_bus.base import Consumer, Delivery, EventBus
from quant_bus.streams import BARS_CLOSED, BarClosedEvent
from quant_engine import EngineRun
from quant_engine.paper import PaperSession
from quant_execution.steps import StepAssembler


class PaperRunner:
    """Runs `session` on the bars the bus delivers to consumer `name` of `group`."""

    def __init__(
        self, bus: EventBus, session: PaperSession, *, group: str, name: str, **consumer: int
    ) -> None:
        self.bus = bus
        self.session = session
        self.consumer = Consumer(BARS_CLOSED, group, name, **consumer)
        self.steps = StepAssembler()
        self.processed = 0  # steps run through the session

    async def handle(self, deliveries: Sequence[Delivery]) -> None:
        """The bus handler: assemble, then run each complete step (returns after its commits)."""
        for delivery in deliveries:
            event = delivery.event
            assert isinstance(event, BarClosedEvent)  # the stream's bound type
            for now, bars in self.steps.add(event):
                await asyncio.to_thread(self.session.on_bars, now, bars)
                self.processed += 1

    async def run_until(self, steps: int, timeout: float) -> None:
        """Consume until `steps` steps have run (a replay of known length), or fail after
        `timeout` seconds."""
        async with asyncio.timeout(timeout):
            while self.processed < steps:
                await self.bus.consume(self.consumer, self.handle)

    def close(self) -> EngineRun:
        """End the session (its last session ends, working orders are cancelled)."""
        return self.session.close()
