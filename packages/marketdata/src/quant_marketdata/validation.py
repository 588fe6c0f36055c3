"""Data-quality validation of raw bars: structural checks, calendar checks and their report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_domain import Timeframe
from quant_marketdata.calendars import calendar_problems
from quant_marketdata.problems import Check, ValidationProblem
from quant_marketdata.raw_bars import BAR_COLUMNS, TIMESTAMP
from quant_marketdata.timestamps import infer_timeframe

Locator = Callable[[int], str | None]
"""Maps a row position of a raw frame to where it lives (e.g. "GOOG.csv:12"), when known."""

_PRICES = ("open", "high", "low", "close")
_CHECK_ORDER = {check: order for order, check in enumerate(Check)}


def _nowhere(position: int) -> str | None:
    return None


def validate_bars(
    frame_raw: pd.DataFrame,
    symbol: str,
    calendar: str | None,
    locate: Locator | None = None,
    timeframe: Timeframe | None = None,
) -> list[ValidationProblem]:
    """Every problem in `frame_raw` (columns "timestamp" + OHLCV, rows in stored order).

    Structural problems come first, in row order, then calendar problems by date. Calendar checks
    run only when `calendar` names an exchange-calendars calendar; intraday bars (by `timeframe`,
    inferred when None) are compared day by day.
    """
    where = locate or _nowhere
    problems = structural_problems(frame_raw, symbol, where)
    if calendar is None:
        return problems
    stamps = pd.DatetimeIndex(frame_raw[TIMESTAMP])
    valid = np.flatnonzero(np.asarray(stamps.notna()))
    if timeframe is None:
        timeframe = infer_timeframe(stamps)
    if timeframe.seconds > 86_400:
        return problems  # weekly bars are labelled by week, not by session
    problems += calendar_problems(symbol, stamps[valid], valid, calendar, where)
    return problems


def structural_problems(
    frame_raw: pd.DataFrame, symbol: str, locate: Locator | None = None
) -> list[ValidationProblem]:
    """Problems no bar series may have, in row order: missing or non-positive values, high and low
    not containing open and close, negative volume, repeated or out-of-order timestamps."""
    return [problem for _, problem in structural_problems_by_row(frame_raw, symbol, locate)]


def structural_problems_by_row(
    frame_raw: pd.DataFrame, symbol: str, locate: Locator | None = None
) -> list[tuple[int, ValidationProblem]]:
    """structural_problems with the 0-based row each one was found on (for quarantining rows)."""
    stamps = pd.DatetimeIndex(frame_raw[TIMESTAMP])
    found = _Findings(symbol, stamps, locate or _nowhere)
    values = {c: frame_raw[c].to_numpy(dtype=np.float64) for c in BAR_COLUMNS}
    o, h, low, c, v = (values[name] for name in BAR_COLUMNS)

    missing = {"timestamp": np.asarray(stamps.isna())}
    missing.update({name: ~np.isfinite(column) for name, column in values.items()})
    blank = np.logical_or.reduce(list(missing.values()))
    found.add(Check.MISSING_VALUE, blank, lambda r: _missing_detail(missing, r))

    non_positive = {p: np.isfinite(values[p]) & (values[p] <= 0) for p in _PRICES}
    found.add(
        Check.NON_POSITIVE_PRICE,
        np.logical_or.reduce(list(non_positive.values())),
        lambda r: (
            ", ".join(f"{p} {values[p][r]:g}" for p in _PRICES if non_positive[p][r])
            + " must be > 0"
        ),
    )
    # Relations between prices are judged only where every price is usable, so one bad value
    # gives one problem rather than three.
    usable = np.logical_and.reduce([values[p] > 0 for p in _PRICES])
    below = usable & (h < low)
    found.add(Check.HIGH_BELOW_LOW, below, lambda r: f"high {h[r]:g} is below low {low[r]:g}")
    found.add(
        Check.OHLC_INCONSISTENT,
        usable & ~below & ((h < np.maximum(o, c)) | (low > np.minimum(o, c))),
        lambda r: (
            f"high {h[r]:g} and low {low[r]:g} do not contain open {o[r]:g} and close {c[r]:g}"
        ),
    )
    found.add(Check.NEGATIVE_VOLUME, v < 0, lambda r: f"volume {v[r]:g} is negative")
    _add_timestamp_problems(found, stamps)
    return found.with_rows()


class _Findings:
    """Problems collected check by check, handed back in row order."""

    def __init__(self, symbol: str, stamps: pd.DatetimeIndex, where: Locator) -> None:
        self.symbol = symbol
        self.stamps = stamps
        self.where = where
        self._found: list[tuple[int, int, ValidationProblem]] = []

    def add(
        self, check: Check, failing: npt.NDArray[np.bool_], describe: Callable[[int], str]
    ) -> None:
        for row in np.flatnonzero(failing):
            self.add_row(check, int(row), describe(int(row)))

    def add_row(self, check: Check, row: int, detail: str) -> None:
        stamp = self.stamps[row]
        when = None if pd.isna(stamp) else stamp
        problem = ValidationProblem(self.symbol, check, when, self.where(row), detail)
        self._found.append((row, _CHECK_ORDER[check], problem))

    def place(self, row: int) -> str:
        return self.where(row) or f"row {row}"

    def with_rows(self) -> list[tuple[int, ValidationProblem]]:
        return [
            (row, problem) for row, _, problem in sorted(self._found, key=lambda f: (f[0], f[1]))
        ]


def _missing_detail(missing: Mapping[str, npt.NDArray[np.bool_]], row: int) -> str:
    names = [name for name, flags in missing.items() if flags[row]]
    return f"{', '.join(names)} missing or not readable"


def _add_timestamp_problems(found: _Findings, stamps: pd.DatetimeIndex) -> None:
    valid = np.flatnonzero(np.asarray(stamps.notna()))
    ticks = stamps[valid].as_unit("us").asi8
    repeated = np.asarray(pd.Index(ticks).duplicated(keep="first"))
    if repeated.any():
        first_row = dict(zip(ticks[~repeated].tolist(), valid[~repeated].tolist(), strict=True))
        for tick, row in zip(ticks[repeated].tolist(), valid[repeated].tolist(), strict=True):
            detail = f"{stamps[row]} repeats the bar at {found.place(first_row[tick])}"
            found.add_row(Check.DUPLICATE_TIMESTAMP, row, detail)
    for k in (np.flatnonzero(np.diff(ticks) < 0) + 1).tolist():
        row, before = int(valid[k]), int(valid[k - 1])
        detail = (
            f"{stamps[row]} comes after {stamps[before]} ({found.place(before)}); "
            "bars must be in ascending time order"
        )
        found.add_row(Check.UNORDERED_TIMESTAMP, row, detail)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Problems per symbol (an empty tuple for a clean symbol) and the bar count checked."""

    problems: Mapping[str, tuple[ValidationProblem, ...]]
    bars: Mapping[str, int]

    @property
    def symbols(self) -> list[str]:
        return list(self.problems)

    @property
    def counts(self) -> dict[Check, int]:
        """Number of problems per check, over all symbols."""
        tally = Counter(p.check for found in self.problems.values() for p in found)
        return {check: tally[check] for check in Check if tally[check]}

    @property
    def total(self) -> int:
        return sum(len(found) for found in self.problems.values())

    @property
    def structural(self) -> list[ValidationProblem]:
        """Problems that make `get_bars` refuse the data."""
        return [p for found in self.problems.values() for p in found if p.check.is_structural]

    @property
    def ok(self) -> bool:
        """True when no check found anything, calendar checks included."""
        return self.total == 0

    def render(self, limit: int = 10) -> str:
        """A plain-text report: one line per symbol, then up to `limit` problems each."""
        lines: list[str] = []
        for symbol, found in self.problems.items():
            bars = self.bars.get(symbol, 0)
            if not found:
                lines.append(f"{symbol}: ok ({bars} bars)")
                continue
            tally = Counter(p.check.value for p in found)
            summary = ", ".join(f"{check} {count}" for check, count in sorted(tally.items()))
            lines.append(f"{symbol}: {len(found)} problem(s) in {bars} bars ({summary})")
            lines.extend(f"  {problem}" for problem in found[:limit])
            if len(found) > limit:
                lines.append(f"  ... and {len(found) - limit} more")
        fatal = len(self.structural)
        verdict = "ok" if self.ok else f"{self.total} problem(s), {fatal} structural"
        lines.append(f"{len(self.problems)} symbol(s) checked: {verdict}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()
