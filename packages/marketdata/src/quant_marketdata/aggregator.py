"""Live source bars (1-minute, 5-second) folded into closed bars of a strategy's timeframe.

A closed bar holds only source bars that began inside its interval [start, end): nothing past its
end ever enters it (no look-ahead). The bars of one interval leave together, as one step, when
either every subscribed symbol has finished the interval (its bar ending at the interval's end,
or one of a later interval, has arrived) or the clock has passed the end plus a grace for bars
still in flight. A symbol that did not trade in the interval has no bar in the step (as in a
replay); a source bar arriving after its step left is late: counted and dropped, never sent as
a correction. Source bars outside market hours are counted and dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from quant_domain import Bar, ensure_utc
from quant_marketdata.market_sessions import Interval, SessionIntervals

DEFAULT_GRACE = timedelta(seconds=5)
"""How long after an interval's end its last source bars may still arrive (Alpaca sends a minute
bar a second or two after the minute)."""

Step = tuple[datetime, list[Bar]]


@dataclass(slots=True)
class _Partial:
    """The source bars of one symbol folded so far."""

    first: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float

    def fold(self, bar: Bar) -> None:
        self.high = max(self.high, bar.high)
        self.low = min(self.low, bar.low)
        self.close = bar.close
        self.volume += bar.volume


@dataclass(slots=True)
class _Pending:
    """One interval still open: its bars so far and which symbols have finished it."""

    interval: Interval
    bars: dict[str, _Partial] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)


class BarAggregator:
    """Turns source bars of `source` length into closed steps of `intervals`' timeframe.

    Args:
        intervals: the calendar's intervals of the target timeframe.
        symbols: the subscribed symbols (a step leaves early only when all of them finished it).
        source: length of one source bar (1m for Alpaca, 5s for IB real-time bars); it must
            divide the target timeframe so no source bar straddles two intervals.
        grace: wait after an interval's end before closing it on the clock alone.
    """

    def __init__(
        self,
        intervals: SessionIntervals,
        symbols: Iterable[str],
        *,
        source: timedelta,
        grace: timedelta = DEFAULT_GRACE,
    ) -> None:
        seconds = source.total_seconds()
        if seconds <= 0 or (
            intervals.timeframe.is_intraday and intervals.timeframe.seconds % seconds
        ):
            raise ValueError(f"{source} source bars do not divide {intervals.timeframe} bars")
        self._intervals = intervals
        self._symbols = frozenset(symbols)
        self._source = source
        self._grace = grace
        self._pending: dict[datetime, _Pending] = {}
        self._released: datetime | None = None
        self.late = 0
        self.outside = 0

    def add(self, bar: Bar) -> list[Step]:
        """Take one source bar (labelled by its start); the steps it completes, oldest first."""
        stamp = ensure_utc(bar.timestamp)
        interval = self._intervals.of(stamp)
        if interval is None or bar.symbol not in self._symbols:
            self.outside += 1
            return []
        if self._released is not None and interval.label <= self._released:
            self.late += 1
            return []
        pending = self._pending.setdefault(interval.label, _Pending(interval))
        partial = pending.bars.get(bar.symbol)
        if partial is None:
            pending.bars[bar.symbol] = _Partial(
                stamp, bar.open, bar.high, bar.low, bar.close, bar.volume
            )
        elif stamp < partial.first:  # out of order inside the interval: keep the first open
            partial.fold(bar)
            partial.first, partial.open = stamp, bar.open
        else:
            partial.fold(bar)
        if stamp + self._source >= interval.end:
            pending.finished.add(bar.symbol)
        for earlier in self._pending.values():  # a later bar finishes every earlier interval
            if earlier.interval.label < interval.label:
                earlier.finished.add(bar.symbol)
        return self._release(now=None)

    def close_due(self, now: datetime) -> list[Step]:
        """The steps whose interval ended more than the grace before `now`, oldest first."""
        return self._release(now=ensure_utc(now))

    def _release(self, now: datetime | None) -> list[Step]:
        out: list[Step] = []
        for label in sorted(self._pending):
            pending = self._pending[label]
            due = now is not None and now >= pending.interval.end + self._grace
            if not due and not self._symbols <= pending.finished:
                break  # steps leave in time order
            del self._pending[label]
            self._released = label
            if pending.bars:
                out.append((label, self._bars(label, pending)))
        return out

    @staticmethod
    def _bars(label: datetime, pending: _Pending) -> list[Bar]:
        return [
            Bar(symbol, label, p.open, p.high, p.low, p.close, p.volume)
            for symbol, p in sorted(pending.bars.items())
        ]
