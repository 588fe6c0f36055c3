"""Backtest service: runs, reproducibility metadata, JSON and HTML reports."""

from quant_backtest.result import BacktestResult, RunMetadata
from quant_backtest.runner import run

__all__ = ["BacktestResult", "RunMetadata", "run"]
