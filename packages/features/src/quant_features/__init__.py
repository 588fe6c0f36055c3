"""Pure indicator and feature functions: incremental for the event loop, vectorised for research."""

from quant_features.compiled import ratio_targets, sma_running, sma_running_cached
from quant_features.rolling import BollingerBands, RelativeStrengthIndex, SimpleMovingAverage
from quant_features.vectorised import bollinger, momentum, rsi, sma

__all__ = [
    "BollingerBands",
    "RelativeStrengthIndex",
    "SimpleMovingAverage",
    "bollinger",
    "momentum",
    "ratio_targets",
    "rsi",
    "sma",
    "sma_running",
    "sma_running_cached",
]
