"""The trading loop shared by backtest, paper and live, with its fill models and accounting."""

from quant_engine.backtest import BacktestEngine, EngineRun, Progress
from quant_engine.config import BacktestConfig, FillTiming
from quant_engine.ledger import Ledger
from quant_engine.oms import OrderRecord
from quant_engine.portfolio import PortfolioReader
from quant_engine.timeline import Timeline, build_timeline
from quant_engine.trading_loop import TradingLoop

__all__ = [
    "BacktestConfig",
    "BacktestEngine",
    "EngineRun",
    "FillTiming",
    "Ledger",
    "OrderRecord",
    "PortfolioReader",
    "Progress",
    "Timeline",
    "TradingLoop",
    "build_timeline",
]
