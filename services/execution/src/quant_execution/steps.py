"""Bars from the bus, assembled into steps: every bar that closed at one time, in time order.

A step is complete when it holds as many bars as its events say (`bars_in_step`, which a replay
knows), or, when they do not say, once a bar of a later time arrives. Steps leave in time order;
a bar older than a step already released is late (a missed bar for that step) and is counted,
not applied out of order. A redelivered event (same idempotency key) is taken once.
"""

from __future__ import annotations

from datetime import datetime

from quant_bus.streams import BarClosedEvent
from quant_domain import Bar

Step = tuple[datetime, list[Bar]]


class StepAssembler:
    """Collects BarClosed events into complete steps."""

    def __init__(self) -> None:
        self._buckets: dict[datetime, list[BarClosedEvent]] = {}
        self._seen: set[str] = set()
        self._released: datetime | None = None
        self.late = 0  # bars that arrived after their step had gone

    def add(self, event: BarClosedEvent) -> list[Step]:
        """Take one event; return the steps it completes (possibly none), oldest first."""
        if event.idempotency_key in self._seen:
            return []
        self._seen.add(event.idempotency_key)
        if self._released is not None and event.timestamp <= self._released:
            self.late += 1
            return []
        self._buckets.setdefault(event.timestamp, []).append(event)
        return self._ready(latest=max(self._buckets))

    def flush(self) -> list[Step]:
        """Release whatever is held (the stream ended), oldest first."""
        steps = [self._step(stamp) for stamp in sorted(self._buckets)]
        self._buckets.clear()
        return steps

    def _ready(self, latest: datetime) -> list[Step]:
        out: list[Step] = []
        for stamp in sorted(self._buckets):
            bucket = self._buckets[stamp]
            expected = bucket[0].bars_in_step
            complete = (expected is not None and len(bucket) >= expected) or (
                expected is None and stamp < latest
            )
            if not complete:
                break  # steps leave in time order: wait for this one first
            out.append(self._step(stamp))
            del self._buckets[stamp]
        return out

    def _step(self, stamp: datetime) -> Step:
        self._released = stamp
        events = sorted(self._buckets[stamp], key=lambda e: e.symbol)
        return stamp, [
            Bar(e.symbol, e.timestamp, e.open, e.high, e.low, e.close, e.volume) for e in events
        ]
