"""The market-data port: every source returns bars in one frame shape."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from quant_domain import Instrument, Timeframe
from quant_domain.instruments import US_EQUITY_TICK
from quant_marketdata.raw_bars import RawBars, from_bar_frame


class DataSource(ABC):
    """Where bars come from: a folder of files, the bundled samples, a generator, later a database.

    Contract of `get_bars`: a DataFrame with exactly BAR_COLUMNS as float64, indexed by a sorted,
    duplicate-free, timezone-aware UTC DatetimeIndex named "timestamp", restricted to
    start <= timestamp <= end (either bound may be None). Unknown symbols raise DataNotFoundError
    naming the symbols that exist; bars that fail the structural checks raise DataQualityError.
    """

    name: str = "source"

    @abstractmethod
    def symbols(self) -> list[str]:
        """Every symbol this source can serve."""

    @abstractmethod
    def get_bars(
        self,
        symbol: str,
        start: datetime | None = None,
        end: datetime | None = None,
        timeframe: Timeframe | None = None,
    ) -> pd.DataFrame:
        """Bars for `symbol` in [start, end], resampled to `timeframe` when it is coarser."""

    def instrument(self, symbol: str) -> Instrument:
        """What `symbol` is; unless a source knows better, a US equity on XNYS: cent ticks,
        whole-share lots, shortable."""
        return Instrument(symbol, tick_size=US_EQUITY_TICK)

    def native_timeframe(self, symbol: str) -> Timeframe:
        """The timeframe the source stores `symbol` in."""
        return Timeframe.parse("1d")

    def raw_bars(self, symbol: str) -> RawBars:
        """`symbol`'s bars as stored, for validation and ingestion; by default all of `get_bars`."""
        return from_bar_frame(self.get_bars(symbol), self.native_timeframe(symbol))


def run_calendar(data: DataSource, symbols: Sequence[str]) -> str | None:
    """The calendar whose sessions a run over `symbols` uses (ADR 0025): None (24 hours) or a
    calendar's name.

    One timeline has one set of sessions. When any instrument has no calendar (synthetic data,
    or a 24-hour market) the run uses the 24-hour calendar; otherwise the first symbol's
    calendar, also when others differ (their bars on its holidays become sessions of their
    own, so no data is lost).
    """
    calendars = [data.instrument(symbol).calendar for symbol in symbols]
    if not calendars or any(c is None for c in calendars):
        return None
    return calendars[0]
