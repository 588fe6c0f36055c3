"""Real market data shipped inside the package (see sample_data/PROVENANCE.md), never downloaded."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from importlib.resources.abc import Traversable

from quant_domain import AssetClass, DataNotFoundError, Instrument
from quant_domain.instruments import US_EQUITY_TICK
from quant_marketdata.bar_files import read_bar_file
from quant_marketdata.cached_source import CachedSource
from quant_marketdata.raw_bars import RawBars

SAMPLE_PACKAGE = "quant_marketdata"
SAMPLE_FOLDER = "sample_data"
FX_TICK = Decimal("0.00001")
"""A tenth of a pip, the increment most FX venues quote EUR/USD in."""


@dataclass(frozen=True, slots=True)
class SampleFile:
    """One bundled file and the instrument it holds."""

    file_name: str
    instrument: Instrument


SAMPLE_FILES: dict[str, SampleFile] = {
    "SP500": SampleFile(
        "sp500.csv.gz",
        Instrument(
            "SP500",
            AssetClass.INDEX,
            "USD",
            "XNYS",
            "S&P 500 index, daily 1999-01-04..2018-12-31 (sample data of arch 8.0.0)",
            tick_size=US_EQUITY_TICK,
        ),
    ),
    "NASDAQ": SampleFile(
        "nasdaq.csv.gz",
        Instrument(
            "NASDAQ",
            AssetClass.INDEX,
            "USD",
            "XNYS",
            "NASDAQ Composite index, daily 1999-01-04..2018-12-31 (sample data of arch 8.0.0)",
            tick_size=US_EQUITY_TICK,
        ),
    ),
    "GOOG": SampleFile(
        "GOOG.csv.gz",
        Instrument(
            "GOOG",
            AssetClass.EQUITY,
            "USD",
            "XNYS",
            "Google Inc. shares, daily 2004-08-19..2013-03-01 (sample data of backtesting 0.6.6)",
            tick_size=US_EQUITY_TICK,
        ),
    ),
    "EURUSD": SampleFile(
        "EURUSD.csv.gz",
        Instrument(
            "EURUSD",
            AssetClass.FX,
            "USD",
            None,
            "Euro in US dollars, hourly 2017-04-19..2018-02-07, traded 24x5 "
            "(sample data of backtesting 0.6.6)",
            tick_size=FX_TICK,
        ),
    ),
}


def sample_data_folder() -> Traversable:
    """The packaged folder holding the sample files."""
    return resources.files(SAMPLE_PACKAGE).joinpath(SAMPLE_FOLDER)


class SampleSource(CachedSource):
    """Four real series for demos and tests: SP500, NASDAQ, GOOG (daily) and EURUSD (hourly)."""

    name = "samples"

    def symbols(self) -> list[str]:
        return list(SAMPLE_FILES)

    def instrument(self, symbol: str) -> Instrument:
        return self._sample(symbol).instrument

    def raw_bars(self, symbol: str) -> RawBars:
        file_name = self._sample(symbol).file_name
        with sample_data_folder().joinpath(file_name).open("rb") as stream:
            return read_bar_file(file_name, stream)

    def _sample(self, symbol: str) -> SampleFile:
        sample = SAMPLE_FILES.get(symbol)
        if sample is None:
            available = ", ".join(SAMPLE_FILES)
            raise DataNotFoundError(
                f"no sample data for {symbol!r} in source 'samples'; available: {available}"
            )
        return sample
