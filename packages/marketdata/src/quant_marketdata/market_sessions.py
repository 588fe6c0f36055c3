"""Exchange sessions and the bar intervals inside them, for live bars built on the calendar.

An intraday interval starts at the session open plus a whole number of timeframes and ends a
timeframe later or at the close, whichever is first (so a 1h bar opens at 09:30 New York, and an
early close at 13:00 cuts the last bar short). A daily interval is the whole session, labelled by
its session date at 00:00 UTC as daily bars are everywhere else. Intraday bars are labelled by
their start, as Alpaca labels them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from quant_domain import ConfigError, Timeframe, TimeUnit, ensure_utc
from quant_marketdata.calendars import trading_calendar

DEFAULT_CALENDAR = "XNYS"


@dataclass(frozen=True, slots=True)
class Session:
    """One trading session: its date and its open and close instants (UTC)."""

    day: date
    open: datetime
    close: datetime

    def holds(self, when: datetime) -> bool:
        return self.open <= when < self.close


@dataclass(frozen=True, slots=True)
class Interval:
    """The span [start, end) one closed bar covers, and the timestamp it is published under."""

    label: datetime
    start: datetime
    end: datetime


class MarketSessions:
    """The sessions of one exchange calendar, looked up by instant (cached per local date)."""

    def __init__(self, calendar: str = DEFAULT_CALENDAR) -> None:
        self.name = calendar
        self._calendar: Any = trading_calendar(calendar)
        self._zone = ZoneInfo(str(self._calendar.tz))
        self._days: dict[date, Session | None] = {}

    def on(self, day: date) -> Session | None:
        """The session on local date `day`, or None when the exchange is closed that day."""
        if day not in self._days:
            self._days[day] = self._lookup(day)
        return self._days[day]

    def at(self, when: datetime) -> Session | None:
        """The session open at `when` (open <= when < close), or None outside market hours."""
        when = ensure_utc(when)
        session = self.on(when.astimezone(self._zone).date())
        return session if session is not None and session.holds(when) else None

    def _lookup(self, day: date) -> Session | None:
        stamp = pd.Timestamp(day)
        calendar = self._calendar
        if not calendar.first_session <= stamp <= calendar.last_session:
            raise ConfigError(
                f"{day} is outside the {self.name} calendar ({calendar.first_session:%Y-%m-%d}"
                f" .. {calendar.last_session:%Y-%m-%d}); upgrade exchange-calendars",
                field="calendar",
            )
        if not calendar.is_session(stamp):
            return None
        opened, closed = calendar.session_open_close(stamp)
        return Session(day, opened.to_pydatetime(), closed.to_pydatetime())


class SessionIntervals:
    """The bar intervals of `timeframe` on a calendar's sessions (1m..59m, 1h..23h or 1d).

    Raises:
        ConfigError: a weekly or multi-day timeframe, which no session holds.
    """

    def __init__(self, timeframe: Timeframe, sessions: MarketSessions) -> None:
        if timeframe.unit is TimeUnit.WEEK or (
            not timeframe.is_intraday and timeframe.seconds != 86_400
        ):
            raise ConfigError(
                f"live bars are built within a session: use minutes, hours or 1d, not {timeframe}",
                field="timeframe",
            )
        self.timeframe = timeframe
        self.sessions = sessions
        self._length = timeframe.delta

    def of(self, when: datetime) -> Interval | None:
        """The interval holding instant `when`, or None outside market hours."""
        session = self.sessions.at(when)
        if session is None:
            return None
        if not self.timeframe.is_intraday:
            label = datetime(session.day.year, session.day.month, session.day.day, tzinfo=UTC)
            return Interval(label, session.open, session.close)
        elapsed = ensure_utc(when) - session.open
        start = session.open + self._length * (elapsed // self._length)
        return Interval(start, start, min(start + self._length, session.close))


def watch_interval(timeframe: Timeframe) -> timedelta:
    """The interval the staleness watchdog counts in: the timeframe, at most 30 minutes (a daily
    strategy still needs to know within the hour that its feed went quiet)."""
    return min(timeframe.delta, timedelta(minutes=30))
