"""Synthetic bar panels for the feature tests (the regime-switching source, a few symbols)."""

from __future__ import annotations

from functools import cache

import pandas as pd

from quant_features import bars_panel
from quant_marketdata import SyntheticSource


@cache
def synthetic_panel(n_symbols: int = 3, n_bars: int = 700, seed: int = 7) -> pd.DataFrame:
    source = SyntheticSource(seed=seed, n_symbols=n_symbols, n_bars=n_bars)
    return bars_panel({symbol: source.get_bars(symbol) for symbol in source.symbols()})


def panel_of(closes: dict[str, list[float]]) -> pd.DataFrame:
    """A panel from closes alone: open = close, high/low 1 % around it, volume 1,000."""
    frames = {}
    for symbol, values in closes.items():
        index = pd.date_range(
            "2024-01-01", periods=len(values), freq="D", tz="UTC", name="timestamp"
        )
        close = pd.Series(values, index=index, dtype=float)
        frames[symbol] = pd.DataFrame(
            {
                "open": close,
                "high": close * 1.01,
                "low": close * 0.99,
                "close": close,
                "volume": 1000.0,
            }
        )
    return bars_panel(frames)
