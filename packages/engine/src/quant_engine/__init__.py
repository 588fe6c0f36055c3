"""The trading loop shared by backtest, paper and live, with its fill models and accounting."""

from quant_engine.config import BacktestConfig, FillTiming
from quant_engine.ledger import Ledger
from quant_engine.loop import BacktestEngine, EngineRun
from quant_engine.oms import OrderRecord
from quant_engine.timeline import Timeline, build_timeline

__all__ = [
    "BacktestConfig",
    "BacktestEngine",
    "EngineRun",
    "FillTiming",
    "Ledger",
    "OrderRecord",
    "Timeline",
    "build_timeline",
]
