"""Backtest service: runs, reproducibility metadata, JSON and HTML reports; backtest() for notebooks."""

from quant_backtest.research import Backtest, backtest
from quant_backtest.result import BacktestResult, RunMetadata
from quant_backtest.runner import run

__all__ = ["Backtest", "BacktestResult", "RunMetadata", "backtest", "run"]
