"""A data source that loads each symbol once, checks it, and serves slices and resamples of it."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime

import pandas as pd

from quant_domain import DataQualityError, Timeframe
from quant_marketdata.base import DataSource
from quant_marketdata.raw_bars import RawBars, to_bar_frame
from quant_marketdata.resample import bars_in_range
from quant_marketdata.validation import structural_problems

_PROBLEMS_IN_MESSAGE = 3


class CachedSource(DataSource):
    """Implements `get_bars` on top of `raw_bars`; a loaded symbol stays in memory per instance."""

    def __init__(self) -> None:
        self._loaded: dict[str, tuple[pd.DataFrame, Timeframe]] = {}

    @abstractmethod
    def raw_bars(self, symbol: str) -> RawBars:
        """`symbol`'s bars as stored; raises DataNotFoundError for an unknown symbol."""

    def native_timeframe(self, symbol: str) -> Timeframe:
        return self._load(symbol)[1]

    def get_bars(
        self,
        symbol: str,
        start: datetime | None = None,
        end: datetime | None = None,
        timeframe: Timeframe | None = None,
    ) -> pd.DataFrame:
        """Bars for `symbol` in [start, end] (UTC-aware bounds), resampled when `timeframe` asks.

        When resampling, bars after `end` are left out before aggregating (so no period borrows
        from the future) and periods labelled before `start` are dropped after.

        Raises:
            DataNotFoundError: the symbol is unknown.
            DataQualityError: the stored bars fail a structural check; names file, line, check.
            DataError: `timeframe` is finer than the stored one.
        """
        frame, native = self._load(symbol)
        # A new frame object over shared data: copy-on-write keeps callers' edits off the cache.
        return bars_in_range(frame, native, start, end, timeframe).copy(deep=False)

    def _load(self, symbol: str) -> tuple[pd.DataFrame, Timeframe]:
        cached = self._loaded.get(symbol)
        if cached is not None:
            return cached
        raw = self.raw_bars(symbol)
        problems = structural_problems(raw.frame, symbol, raw.location)
        if problems:
            shown = "; ".join(str(p) for p in problems[:_PROBLEMS_IN_MESSAGE])
            more = len(problems) - _PROBLEMS_IN_MESSAGE
            tail = f" (and {more} more)" if more > 0 else ""
            raise DataQualityError(
                f"{raw.label}: {len(problems)} structural problem(s) in {symbol} bars, "
                f"fix the data before use: {shown}{tail}",
                [str(p) for p in problems],
            )
        loaded = (to_bar_frame(raw.frame), raw.timeframe)
        self._loaded[symbol] = loaded
        return loaded
