"""Trading sessions: which session each bar belongs to, and when sessions open and close.

Two kinds of calendar: an exchange's (exchange-calendars, e.g. "XNYS", holidays and half days
included) and "24H", where every UTC day is a session from 00:00 to 24:00 (FX, crypto, and
synthetic data, which has no calendar). The labelling rules (ADR 0025):

- Daily or coarser bars (no two on one UTC date) are labelled by their UTC date, the session
  date they carry, and are decided at that session's close.
- An intraday bar is decided at its timestamp and belongs to the first session whose close is
  strictly after it: pre-market bars join that day's session, after-hours bars the next one.
- A day with bars that is not a session of the calendar (a holiday, a weekend, a day beyond the
  calendar's range) is a session of its own, from that day's midnight to the next in the
  calendar's time zone. Its bars are kept and count as traded: the data is the authority for
  what traded, and data validation reports such bars.

Times inside are int64 microseconds since 1970-01-01 UTC and dates are day numbers since then,
so labelling a million bars is a handful of vectorised numpy passes.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_domain import ConfigError

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

TWENTY_FOUR_HOURS = "24H"
"""The calendar whose sessions are the UTC days."""

DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LOOKAHEAD_DAYS = 16
"""Calendar days searched past the last bar for the session that follows it (closures are shorter)."""


def to_micros(at: datetime) -> int:
    """`at` (timezone-aware) as microseconds since 1970-01-01 UTC."""
    if at.tzinfo is None:
        raise ValueError(f"{at.isoformat()} has no time zone; session times are compared in UTC")
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, slots=True)
class SessionTable:
    """Sessions in time order: dates (days since 1970-01-01) and UTC opens and closes (µs)."""

    days: Ints
    opens: Ints
    closes: Ints

    def __len__(self) -> int:
        return len(self.days)


@dataclass(frozen=True, slots=True)
class SessionLabels:
    """What a calendar says about a sorted run of bar timestamps.

    Per step: `session` (0, 1, ... in time order, one number per session present in the data),
    `day_end` (the step is the last of its session in the data) and `market_open` (the step is
    decided inside its session, open and close included). Per session: UTC `opens` and `closes`
    in µs. `own_days` are the dates that became sessions of their own; `daily` says the bars were
    taken as daily or coarser, so each step is decided at its session's close.
    """

    session: Ints
    day_end: Bools
    market_open: Bools
    opens: Ints
    closes: Ints
    own_days: Ints
    daily: bool


class SessionCalendar(ABC):
    """A market's trading sessions; subclasses say which days are sessions and their hours."""

    name: str
    tz: tzinfo

    @abstractmethod
    def sessions(self, first_day: int, last_day: int) -> SessionTable:
        """The calendar's sessions dated `first_day` to `last_day` (inclusive)."""

    @property
    @abstractmethod
    def last_day(self) -> int | None:
        """Date of the calendar's last session; None when it never ends."""

    @abstractmethod
    def midnights(self, first_day: int, last_day: int) -> Ints:
        """UTC µs at which each day `first_day`..`last_day` begins in the calendar's time zone."""

    # -- derived ---------------------------------------------------------------------------
    def with_own_days(self, first_day: int, last_day: int, own_days: Ints) -> SessionTable:
        """Sessions dated `first_day`..`last_day` plus a whole-day session for each own day."""
        table = self.sessions(first_day, last_day)
        own = own_days[(own_days >= first_day) & (own_days <= last_day)]
        if len(own) == 0:
            return table
        bounds = self.midnights(int(own.min()), int(own.max()) + 1)
        offset = own - own.min()
        days = np.concatenate((table.days, own))
        opens = np.concatenate((table.opens, bounds[offset]))
        closes = np.concatenate((table.closes, bounds[offset + 1]))
        order = np.argsort(closes, kind="stable")
        return SessionTable(days[order], opens[order], closes[order])

    def session_at(self, at: datetime, own_days: Ints | None = None) -> tuple[int, int] | None:
        """(open, close) in µs of the session `at` is in (close included) or else the next one."""
        moment = to_micros(at)
        local_day = (at.astimezone(self.tz).date() - _EPOCH.date()).days
        own = np.zeros(0, dtype=np.int64) if own_days is None else own_days
        span = _LOOKAHEAD_DAYS
        while True:
            table = self.with_own_days(local_day - 1, local_day + span, own)
            k = int(table.closes.searchsorted(moment, "left"))
            if k < len(table):
                return int(table.opens[k]), int(table.closes[k])
            end = self.last_day
            later = own[own > local_day + span]
            if (end is None or local_day + span >= end) and len(later) == 0:
                return None
            span *= 4

    def local_days(self, stamps: Ints, utc_day: Ints) -> Ints:
        """The date of each of the sorted `stamps` in the calendar's time zone."""
        low = int(utc_day[0]) - 1
        bounds = self.midnights(low, int(utc_day[-1]) + 2)
        days: Ints = low - 1 + bounds.searchsorted(stamps, "right")
        return days

    def label(self, index: pd.DatetimeIndex) -> SessionLabels:
        """Sessions of the bars at `index` (sorted, unique, UTC) by the module's rules."""
        stamps: Ints = pd.DatetimeIndex(index).as_unit("us").asi8
        if len(stamps) == 0:
            raise ValueError("no timestamps to label with sessions")
        utc_day = stamps // DAY_US
        daily = not bool(np.any(utc_day[1:] == utc_day[:-1]))
        if daily:
            table, key, own = self._daily_keys(utc_day)
            market_open = np.ones(len(stamps), dtype=np.bool_)
        else:
            table, key, own = self._intraday_keys(stamps, utc_day)
            market_open = (table.opens[key] <= stamps) & (stamps <= table.closes[key])
        change = key[1:] != key[:-1]
        starts = np.concatenate(([True], change))
        used = key[starts]
        return SessionLabels(
            session=np.cumsum(starts, dtype=np.int64) - 1,
            day_end=np.concatenate((change, [True])),
            market_open=market_open,
            opens=table.opens[used],
            closes=table.closes[used],
            own_days=own,
            daily=daily,
        )

    def label_one(self, at: datetime, daily: bool) -> tuple[int, int, bool, bool]:
        """(open µs, close µs, market open, own day) of one bar at `at`, by the rules of `label`.

        For bars that arrive one at a time (a paper session): `daily` says how the stream's bars
        are taken, since one timestamp cannot tell.
        """
        stamps = np.array([to_micros(at)], dtype=np.int64)
        utc_day = stamps // DAY_US
        if daily:
            table, key, own = self._daily_keys(utc_day)
            k = int(key[0])
            return int(table.opens[k]), int(table.closes[k]), True, bool(len(own))
        table, key, own = self._intraday_keys(stamps, utc_day)
        k = int(key[0])
        opens, closes = int(table.opens[k]), int(table.closes[k])
        return opens, closes, opens <= int(stamps[0]) <= closes, bool(len(own))

    def _daily_keys(self, days: Ints) -> tuple[SessionTable, Ints, Ints]:
        first, last = int(days[0]), int(days[-1])
        table = self.sessions(first, last)
        if len(table) == last - first + 1:  # every day a session (24H): no search needed
            return table, days - first, np.zeros(0, dtype=np.int64)
        own = days[~_members(days, table.days)]
        if len(own):
            table = self.with_own_days(first, last, own)
            order = np.argsort(table.days, kind="stable")
            table = SessionTable(table.days[order], table.opens[order], table.closes[order])
        return table, table.days.searchsorted(days), own

    def _intraday_keys(self, stamps: Ints, utc_day: Ints) -> tuple[SessionTable, Ints, Ints]:
        local_day = self.local_days(stamps, utc_day)
        distinct = local_day[np.concatenate(([True], local_day[1:] != local_day[:-1]))]
        first, last = int(distinct[0]), int(distinct[-1])
        plain = self.sessions(first - 1, last + _LOOKAHEAD_DAYS)
        own = distinct[~_members(distinct, plain.days)]
        table = self.with_own_days(first - 1, last + _LOOKAHEAD_DAYS, own)
        key = table.closes.searchsorted(stamps, "right")
        if key[-1] == len(table):
            # bars after the last close the calendar knows: one closed session until midnight
            end = self.midnights(last + 1, last + 1)
            table = SessionTable(
                np.append(table.days, last),
                np.append(table.opens, end),
                np.append(table.closes, end),
            )
        return table, key, own


def _members(values: Ints, sorted_set: Ints) -> Bools:
    """Which `values` are in `sorted_set` (sorted ascending)."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=np.bool_)
    at = np.minimum(sorted_set.searchsorted(values), len(sorted_set) - 1)
    found: Bools = sorted_set[at] == values
    return found


class TwentyFourHourCalendar(SessionCalendar):
    """Every UTC day is a session from 00:00 to 24:00, weekends included."""

    name = TWENTY_FOUR_HOURS
    tz = UTC

    def sessions(self, first_day: int, last_day: int) -> SessionTable:
        days = np.arange(first_day, last_day + 1, dtype=np.int64)
        opens = days * DAY_US
        return SessionTable(days, opens, opens + DAY_US)

    @property
    def last_day(self) -> int | None:
        return None

    def midnights(self, first_day: int, last_day: int) -> Ints:
        return np.arange(first_day, last_day + 1, dtype=np.int64) * DAY_US

    def local_days(self, stamps: Ints, utc_day: Ints) -> Ints:
        return utc_day


class ExchangeCalendar(SessionCalendar):
    """An exchange's sessions from exchange-calendars; a lunch break counts as open."""

    def __init__(self, name: str) -> None:
        calendar = _exchange_calendar(name)
        self.name = name
        self.tz = calendar.tz
        sessions = pd.DatetimeIndex(calendar.sessions).as_unit("us")
        self._days: Ints = sessions.asi8 // DAY_US
        self._opens: Ints = pd.DatetimeIndex(calendar.opens).as_unit("us").asi8
        self._closes: Ints = pd.DatetimeIndex(calendar.closes).as_unit("us").asi8

    def sessions(self, first_day: int, last_day: int) -> SessionTable:
        lo = int(self._days.searchsorted(first_day, "left"))
        hi = int(self._days.searchsorted(last_day, "right"))
        return SessionTable(self._days[lo:hi], self._opens[lo:hi], self._closes[lo:hi])

    @property
    def last_day(self) -> int | None:
        return int(self._days[-1])

    def midnights(self, first_day: int, last_day: int) -> Ints:
        days = pd.DatetimeIndex(
            np.arange(first_day, last_day + 1, dtype=np.int64).astype("datetime64[D]")
        )
        local = days.tz_localize(
            self.tz, ambiguous=np.ones(len(days), dtype=np.bool_), nonexistent="shift_forward"
        )
        return np.asarray(local.as_unit("us").asi8, dtype=np.int64)


@lru_cache(maxsize=32)
def _exchange_calendar(name: str) -> Any:
    """Built once per process: importing exchange-calendars and building one take about a second.

    Imported here, not at the top, since `--help` of the CLI's backtest commands imports the
    engine and must stay light (tests/unit/cli/test_registry.py).
    """
    import exchange_calendars as xcals  # noqa: PLC0415

    with warnings.catch_warnings():
        # exchange-calendars 4.13 uses Series.values, which pandas 3.1 deprecates; not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return xcals.get_calendar(name, start="1970-01-01")
        except xcals.errors.InvalidCalendarName as exc:
            raise ConfigError(f"unknown trading calendar {name!r}", field="calendar") from exc
        except (ValueError, NotImplementedError):
            pass  # the calendar starts after 1970
        try:
            return xcals.get_calendar(name)
        except (ValueError, NotImplementedError) as exc:
            raise ConfigError(
                f"trading calendar {name!r} cannot be built: {exc}", field="calendar"
            ) from exc


@lru_cache(maxsize=32)
def session_calendar(name: str | None = None) -> SessionCalendar:
    """The calendar `name` ("XNYS", ...), or the 24-hour calendar for None or "24H"."""
    if name is None or name.upper() == TWENTY_FOUR_HOURS:
        return TwentyFourHourCalendar()
    return ExchangeCalendar(name)


def from_micros(value: int) -> datetime:
    """Microseconds since 1970-01-01 UTC as a UTC datetime."""
    return _EPOCH + timedelta(microseconds=value)
