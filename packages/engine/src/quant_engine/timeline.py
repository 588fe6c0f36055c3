"""Aligns per-symbol bar frames onto one clock (the union of their timestamps) and its sessions."""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from quant_engine.sessions import session_calendar

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Timeline:
    """Price columns per symbol (NaN where a symbol has no bar) and per-step calendar facts.

    Columns are `array('d')`: indexing one yields a plain Python float as cheaply as a list does
    (numpy scalar access is several times slower in CPython), at 8 bytes a value instead of 32.

    Sessions come from `calendar` by the rules in quant_engine.sessions (ADR 0025): `session[i]`
    numbers step i's session (0, 1, ... in time order, only sessions with bars), and
    `session_opens[s]` / `session_closes[s]` are session s's UTC open and close in POSIX seconds.
    A day with bars that is not a calendar session is a session of its own (`own_days`).
    """

    symbols: list[str]
    index: pd.DatetimeIndex
    times: list[datetime]
    opens: list[array[float]]
    highs: list[array[float]]
    lows: list[array[float]]
    closes: list[array[float]]
    volumes: list[array[float]]
    present: list[list[int]] | None  # None: every symbol has a bar at every step
    day_end: list[bool]  # the step is the last of its session in the data
    calendar: str  # the SessionCalendar's name: "24H", "XNYS", ...
    session: array[int]  # per step: its session's number
    market_open: list[bool]  # per step: decided inside its session (open and close included)
    session_opens: array[int]  # per session: UTC open, POSIX seconds
    session_closes: array[int]  # per session: UTC close, POSIX seconds
    own_days: array[int]  # days (since 1970-01-01) that are sessions only because they have bars
    daily: bool  # bars daily or coarser: a step is decided at its session's close

    def __len__(self) -> int:
        return len(self.times)

    @property
    def bar_count(self) -> int:
        if self.present is None:
            return len(self.times) * len(self.symbols)
        return sum(len(p) for p in self.present)

    def has_bar(self, k: int, i: int) -> bool:
        return not math.isnan(self.closes[k][i])

    @property
    def session_count(self) -> int:
        return len(self.session_closes)

    def session_open_at(self, s: int) -> datetime:
        """UTC open of session `s` (a holiday's own session opens at its local midnight)."""
        return _EPOCH + timedelta(seconds=self.session_opens[s])

    def session_close_at(self, s: int) -> datetime:
        """UTC close of session `s`: when its DAY orders expire."""
        return _EPOCH + timedelta(seconds=self.session_closes[s])

    def decision_time(self, i: int) -> datetime:
        """When step `i` is decided: its session's close for daily bars, else its timestamp."""
        if self.daily:
            return self.session_close_at(self.session[i])
        return self.times[i]


def build_timeline(frames: dict[str, pd.DataFrame], calendar: str | None = None) -> Timeline:
    """Union the frames' indexes (each already in the market-data frame shape) into one clock.

    `calendar` names the sessions ("XNYS", ...); None is the 24-hour calendar ("24H").
    """
    if not frames:
        raise ValueError("no bar frames to build a timeline from")
    symbols = list(frames)
    index = pd.DatetimeIndex(frames[symbols[0]].index)
    aligned = all(frames[s].index.equals(index) for s in symbols[1:])
    if not aligned:
        for symbol in symbols[1:]:
            index = index.union(pd.DatetimeIndex(frames[symbol].index))
    if len(index) == 0:
        raise ValueError("the bar frames hold no bars in the requested range")
    columns: dict[str, list[array[float]]] = {
        c: [] for c in ("open", "high", "low", "close", "volume")
    }
    present_matrix = []
    for symbol in symbols:
        frame = frames[symbol] if aligned else frames[symbol].reindex(index)
        for column, store in columns.items():
            store.append(array("d", frame[column].to_numpy(dtype=np.float64).tobytes()))
        if not aligned:
            present_matrix.append(np.isfinite(frame["close"].to_numpy(dtype=np.float64)))
    present: list[list[int]] | None = None
    if not aligned:
        matrix = np.vstack(present_matrix)
        if not matrix.all():
            present = [np.flatnonzero(matrix[:, i]).tolist() for i in range(len(index))]
    times: list[datetime] = list(index.to_pydatetime())
    sessions = session_calendar(calendar)
    labels = sessions.label(index)
    return Timeline(
        symbols=symbols,
        index=index,
        times=times,
        opens=columns["open"],
        highs=columns["high"],
        lows=columns["low"],
        closes=columns["close"],
        volumes=columns["volume"],
        present=present,
        day_end=labels.day_end.tolist(),
        calendar=sessions.name,
        session=array("q", labels.session.tobytes()),
        market_open=labels.market_open.tolist(),
        session_opens=array("q", (labels.opens // 1_000_000).tobytes()),
        session_closes=array("q", (labels.closes // 1_000_000).tobytes()),
        own_days=array("q", labels.own_days.astype(np.int64).tobytes()),
        daily=labels.daily,
    )
