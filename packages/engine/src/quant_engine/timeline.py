"""Aligns per-symbol bar frames onto one clock (the union of their timestamps) and its sessions."""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_engine.sessions import session_calendar

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)

Column = Sequence[float]
"""One symbol's prices per step: an `array('d')` (a paper session's, which grows) or a
`memoryview` over the bar frame's own float64 column (a backtest's: no copy). Indexing either
yields a plain Python float."""


class StepTimes(Sequence[datetime]):
    """A backtest's step times as int64 microseconds since the epoch (the bar index's own values,
    ADR 0044); a `datetime` is built only when one is asked for.

    `times[i]` builds step i's datetime (UTC, as the index's `to_pydatetime()` would give it);
    `times[a:b]` builds a list for a run of steps at once, which is how the engine's loop reads
    them (a chunk at a time, so a million-step run never holds a million datetimes).
    """

    __slots__ = ("_epoch", "_index", "_utc", "micros")

    def __init__(self, index: pd.DatetimeIndex) -> None:
        self._index = index
        self.micros: npt.NDArray[np.int64] = index.as_unit("us").asi8
        tz = index.tz
        self._utc = tz is UTC or tz is None  # built by arithmetic, else by pandas
        self._epoch = _NAIVE_EPOCH if tz is None else _EPOCH

    def __len__(self) -> int:
        return len(self.micros)

    @overload
    def __getitem__(self, i: int) -> datetime: ...

    @overload
    def __getitem__(self, i: slice) -> list[datetime]: ...

    def __getitem__(self, i: int | slice) -> datetime | list[datetime]:
        if isinstance(i, slice):
            start, stop, stride = i.indices(len(self.micros))
            if stride != 1:
                return [self[k] for k in range(start, stop, stride)]
            return list(self._index[start:stop].to_pydatetime())
        if self._utc:
            return self._epoch + timedelta(microseconds=int(self.micros[i]))
        stamp: datetime = self._index[i].to_pydatetime()
        return stamp

    def posix(self, i: int) -> float:
        """Step i's time in POSIX seconds: `self[i].timestamp()` without building the datetime."""
        if self._epoch is _NAIVE_EPOCH:  # a naive time is local time to datetime.timestamp()
            return self[i].timestamp()
        return int(self.micros[i]) / 1_000_000


@dataclass(slots=True)
class Timeline:
    """Price columns per symbol (NaN where a symbol has no bar) and per-step calendar facts.

    Columns (`Column`) yield a plain Python float per index as cheaply as a list does (numpy
    scalar access is several times slower in CPython), at 8 bytes a value instead of 32; a
    backtest's are views of the bar frames' own columns. `times` is a `StepTimes` in a backtest
    (int64 microseconds, datetimes built on demand; ADR 0044) and a list in a paper session.

    Sessions come from `calendar` by the rules in quant_engine.sessions (ADR 0025): `session[i]`
    numbers step i's session (0, 1, ... in time order, only sessions with bars), and
    `session_opens[s]` / `session_closes[s]` are session s's UTC open and close in POSIX seconds.
    A day with bars that is not a calendar session is a session of its own (`own_days`).
    """

    symbols: list[str]
    index: pd.DatetimeIndex
    times: Sequence[datetime]
    opens: list[Column]
    highs: list[Column]
    lows: list[Column]
    closes: list[Column]
    volumes: list[Column]
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
    columns: dict[str, list[Column]] = {c: [] for c in ("open", "high", "low", "close", "volume")}
    present_matrix = []
    for symbol in symbols:
        frame = frames[symbol] if aligned else frames[symbol].reindex(index)
        for column, store in columns.items():
            # a view of the frame's float64 column where it is one (a copy only otherwise)
            values = np.ascontiguousarray(frame[column].to_numpy(dtype=np.float64))
            store.append(cast(Column, values.data.toreadonly()))
        if not aligned:
            present_matrix.append(np.isfinite(frame["close"].to_numpy(dtype=np.float64)))
    present: list[list[int]] | None = None
    if not aligned:
        matrix = np.vstack(present_matrix)
        if not matrix.all():
            present = [np.flatnonzero(matrix[:, i]).tolist() for i in range(len(index))]
    sessions = session_calendar(calendar)
    labels = sessions.label(index)
    return Timeline(
        symbols=symbols,
        index=index,
        times=StepTimes(index),
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
