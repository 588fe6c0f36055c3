"""Market data: sources of bars (folder, bundled samples, synthetic), resampling and validation."""

from quant_marketdata.base import DataSource
from quant_marketdata.cached_source import CachedSource
from quant_marketdata.calendars import trading_calendar
from quant_marketdata.folder import FolderSource
from quant_marketdata.problems import Check, ValidationProblem
from quant_marketdata.raw_bars import BAR_COLUMNS, RawBars
from quant_marketdata.regimes import Regime
from quant_marketdata.resample import bars_in_range, resample_bars
from quant_marketdata.samples import SAMPLE_FILES, SampleSource
from quant_marketdata.sources import open_source, validate_source
from quant_marketdata.synthetic import SyntheticSource, regime_labels, synthetic_symbol
from quant_marketdata.timestamps import infer_timeframe
from quant_marketdata.validation import (
    ValidationReport,
    structural_problems,
    structural_problems_by_row,
    validate_bars,
)

__all__ = [
    "BAR_COLUMNS",
    "SAMPLE_FILES",
    "CachedSource",
    "Check",
    "DataSource",
    "FolderSource",
    "RawBars",
    "Regime",
    "SampleSource",
    "SyntheticSource",
    "ValidationProblem",
    "ValidationReport",
    "bars_in_range",
    "infer_timeframe",
    "open_source",
    "regime_labels",
    "resample_bars",
    "structural_problems",
    "structural_problems_by_row",
    "synthetic_symbol",
    "trading_calendar",
    "validate_bars",
    "validate_source",
]
