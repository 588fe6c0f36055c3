"""The simulated clock: a backtest's time, moved by the driver, over a calendar's sessions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

import numpy as np

from quant_engine.sessions import SessionCalendar, from_micros, session_calendar, to_micros
from quant_engine.timeline import StepTimes, Timeline


class SimulatedClock:
    """quant_domain.ports.Clock for a backtest: `now()` is the current step's decision time.

    The backtest driver calls `advance(t)` before each step; time never moves backwards. Sessions
    are the calendar's, plus a whole-day session for each of `own_days` (days since 1970-01-01
    that have bars but are no session of the calendar; see quant_engine.sessions). A session is
    open from its open to its close, both included.
    """

    def __init__(
        self,
        calendar: SessionCalendar | str | None = None,
        own_days: Iterable[int] = (),
        start: datetime | None = None,
    ) -> None:
        self.calendar = (
            calendar if isinstance(calendar, SessionCalendar) else session_calendar(calendar)
        )
        self._own_days = np.fromiter(own_days, dtype=np.int64)
        self._own_days.sort()
        self._now: datetime | None = None
        self._last: tuple[int, int] | None = None  # the session found last, (open, close) in µs
        if start is not None:
            self.advance(start)

    @classmethod
    def for_timeline(cls, timeline: Timeline) -> SimulatedClock:
        """A clock over `timeline`'s calendar and own days, at its first step's decision time."""
        return cls(timeline.calendar, timeline.own_days, timeline.decision_time(0))

    def advance(self, to: datetime) -> None:
        """Move the clock to `to` (timezone-aware, not earlier than now)."""
        to_micros(to)  # rejects a naive datetime with a clear message
        if self._now is not None and to < self._now:
            raise ValueError(
                f"the clock cannot go back from {self._now.isoformat()} to {to.isoformat()}"
            )
        self._now = to

    def now(self) -> datetime:
        if self._now is None:
            raise RuntimeError("the simulated clock has not been advanced to a first step yet")
        return self._now

    def session_open(self, at: datetime) -> datetime | None:
        found = self._session(at)
        return None if found is None else from_micros(found[0])

    def session_close(self, at: datetime) -> datetime | None:
        found = self._session(at)
        return None if found is None else from_micros(found[1])

    def is_market_open(self, at: datetime) -> bool:
        found = self._session(at)
        moment = to_micros(at)
        return found is not None and found[0] <= moment <= found[1]

    def _session(self, at: datetime) -> tuple[int, int] | None:
        moment = to_micros(at)
        last = self._last
        if last is not None and last[0] <= moment <= last[1]:
            return last
        found = self.calendar.session_at(at, self._own_days)
        self._last = found
        return found


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class TimelineClock:
    """quant_domain.ports.Clock for a backtest driven step by step over one timeline.

    The driver sets `step`; `now()` is that step's decision time (a daily bar's session close,
    an intraday bar's timestamp), and questions about that moment are answered from what the
    timeline precomputed (one list index, no calendar lookup on the order path). Any other time
    is answered by a SimulatedClock over the same calendar and own days.
    """

    __slots__ = ("_calendar", "_facts", "_facts_step", "_timeline", "step")

    def __init__(self, timeline: Timeline) -> None:
        self._timeline = timeline
        self._calendar = SimulatedClock(timeline.calendar, timeline.own_days)
        self.step = 0
        self._facts_step = -1
        never = datetime.min.replace(tzinfo=UTC)  # replaced on the first question of a step
        self._facts: tuple[datetime, datetime, datetime, bool] = (never, never, never, False)

    def _step_facts(self) -> tuple[datetime, datetime, datetime, bool]:
        """(now, session open, session close, market open) of the current step, built once."""
        step = self.step
        if self._facts_step != step:
            tl = self._timeline
            session = tl.session[step]
            self._facts = (
                tl.decision_time(step),
                tl.session_open_at(session),
                tl.session_close_at(session),
                tl.market_open[step],
            )
            self._facts_step = step
        return self._facts

    def now(self) -> datetime:
        return self._step_facts()[0]

    def posix_facts(self) -> tuple[float, bool, date]:
        """(now in POSIX seconds, is the market open, the session's date) of the current step,
        straight from the timeline's arrays: what the trading loop needs per order, without
        building the datetimes `now()` and `session_open()` return."""
        tl = self._timeline
        step = self.step
        session = tl.session[step]
        if tl.daily:
            now = float(tl.session_closes[session])
        else:
            times = tl.times
            now = times.posix(step) if type(times) is StepTimes else times[step].timestamp()
        day = _EPOCH_ORDINAL + tl.session_opens[session] // 86_400
        return now, tl.market_open[step], date.fromordinal(day)

    def session_open(self, at: datetime) -> datetime | None:
        facts = self._step_facts()
        return facts[1] if at == facts[0] else self._calendar.session_open(at)

    def session_close(self, at: datetime) -> datetime | None:
        facts = self._step_facts()
        return facts[2] if at == facts[0] else self._calendar.session_close(at)

    def is_market_open(self, at: datetime) -> bool:
        facts = self._step_facts()
        return facts[3] if at == facts[0] else self._calendar.is_market_open(at)
