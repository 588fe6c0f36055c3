"""Trading calendars (exchange-calendars): which days a market was open, and bars that disagree."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import exchange_calendars as xcals
import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_domain import ConfigError
from quant_marketdata.problems import Check, ValidationProblem
from quant_marketdata.timestamps import MICROS_PER_DAY

CALENDAR_START = "1970-01-01"
"""Earliest session asked of a calendar; older bars are not calendar-checked."""


@lru_cache(maxsize=32)
def trading_calendar(name: str) -> Any:
    """The exchange calendar `name` (e.g. "XNYS"), built once per process since that is slow.

    Sessions from CALENDAR_START when the calendar reaches that far, else from its own default.
    """
    with warnings.catch_warnings():
        # exchange-calendars 4.13 uses Series.values, which pandas 3.1 deprecates; not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return xcals.get_calendar(name, start=CALENDAR_START)
        except xcals.errors.InvalidCalendarName as exc:
            raise ConfigError(f"unknown trading calendar {name!r}", field="calendar") from exc
        except (ValueError, NotImplementedError):
            pass  # the calendar starts later than CALENDAR_START
        try:
            return xcals.get_calendar(name)
        except (ValueError, NotImplementedError) as exc:
            raise ConfigError(
                f"trading calendar {name!r} cannot be built: {exc}", field="calendar"
            ) from exc


@lru_cache(maxsize=32)
def session_days(name: str) -> npt.NDArray[np.int64]:
    """Sessions of calendar `name` as sorted day numbers since 1970-01-01."""
    sessions = pd.DatetimeIndex(trading_calendar(name).sessions).as_unit("us")
    return sessions.asi8 // MICROS_PER_DAY


def calendar_problems(
    symbol: str,
    stamps: pd.DatetimeIndex,
    positions: npt.NDArray[np.int64],
    calendar: str,
    locate: Callable[[int], str | None],
) -> list[ValidationProblem]:
    """Calendar days between the first and last bar with no bar, and bars on non-session days.

    `stamps` are the valid timestamps and `positions` their rows in the raw frame. Only days are
    compared, which fits daily bars and, for intraday bars, says which days are absent or extra.
    Days outside the calendar's range are not checked.
    """
    if len(stamps) == 0:
        return []
    sessions = session_days(calendar)
    days = stamps.as_unit("us").asi8 // MICROS_PER_DAY
    in_range = (days >= sessions[0]) & (days <= sessions[-1])
    if not in_range.any():
        return []
    first, last = days[in_range].min(), days[in_range].max()
    found: list[tuple[int, ValidationProblem]] = []
    expected = sessions[(sessions >= first) & (sessions <= last)]
    for day in np.setdiff1d(expected, days):
        when = _day_timestamp(int(day))
        detail = f"{calendar} session {when:%Y-%m-%d} ({when:%A}) has no bar"
        found.append(
            (int(day), ValidationProblem(symbol, Check.MISSING_SESSION, when, None, detail))
        )
    extra = in_range & ~np.isin(days, sessions)
    seen: set[int] = set()
    for index in np.flatnonzero(extra).tolist():
        day = int(days[index])
        if day in seen:
            continue
        seen.add(day)
        when = _day_timestamp(day)
        detail = f"bar on {when:%Y-%m-%d} ({when:%A}), which is not a {calendar} session"
        where = locate(int(positions[index]))
        stamp = stamps[index]
        found.append((day, ValidationProblem(symbol, Check.NON_SESSION_BAR, stamp, where, detail)))
    found.sort(key=lambda item: item[0])
    return [problem for _, problem in found]


def _day_timestamp(day: int) -> pd.Timestamp:
    return pd.Timestamp(day * MICROS_PER_DAY, unit="us", tz="UTC")
