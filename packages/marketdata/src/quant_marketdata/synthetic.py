"""Synthetic bars: seeded, regime-switching random walks, clearly labelled as not real data."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_domain import AssetClass, ConfigError, DataNotFoundError, Instrument, Timeframe, TimeUnit
from quant_marketdata.cached_source import CachedSource
from quant_marketdata.raw_bars import TIMESTAMP, RawBars
from quant_marketdata.regimes import Regime, regime_path, trait_array

SYMBOL_PREFIX = "SYN"
DEFAULT_START = "2000-01-03"
PULL_PER_DAY = 1 / 5000
"""Share of the distance to the starting log price closed per trading day."""

_LAST_DAY = np.datetime64("9999-12-31", "D")
_WALK_BLOCK = 4096
_STREAMS = ("regimes", "start", "returns", "gaps", "highs", "lows", "volumes")


def synthetic_symbol(index: int) -> str:
    """The symbol of the `index`-th synthetic series: 0 -> "SYN000"."""
    return f"{SYMBOL_PREFIX}{index:03d}"


def regime_labels(
    seed: int, index: int, n_bars: int, timeframe: Timeframe | None = None
) -> npt.NDArray[np.int8]:
    """The regime (a Regime value) behind each bar of series `index` generated from `seed`."""
    streams = _streams(seed, index)
    return regime_path(streams["regimes"], n_bars, _bars_per_day(timeframe or _daily()))


def synthetic_bars(
    seed: int,
    index: int,
    n_bars: int,
    start: str | date = DEFAULT_START,
    timeframe: Timeframe | None = None,
) -> pd.DataFrame:
    """Raw bars of series `index`: identical for the same (seed, index) whatever else is asked.

    Log prices follow the regime's drift and volatility plus a weak pull back to the starting
    level (half-life about 14 years), so a million bars stay in a plausible price range instead
    of compounding to 1e50. Every value comes from its own random stream, so a longer series
    begins with a shorter one.
    """
    timeframe = timeframe or _daily()
    streams = _streams(seed, index)
    per_day = _bars_per_day(timeframe)
    labels = regime_path(streams["regimes"], n_bars, per_day)
    drift = trait_array("drift")[labels] / per_day
    vol = trait_array("volatility")[labels] / np.sqrt(per_day)
    first_close = 100.0 * np.exp(streams["start"].uniform(-0.7, 0.7))
    base_volume = 1e6 * np.exp(streams["start"].uniform(-1.0, 1.0)) / per_day
    steps = drift + vol * streams["returns"].standard_normal(n_bars)
    close = first_close * np.exp(pulled_walk(steps, PULL_PER_DAY / per_day))
    previous = np.concatenate(([first_close], close[:-1]))
    open_ = previous * np.exp(0.2 * vol * streams["gaps"].standard_normal(n_bars))
    high = np.maximum(open_, close) * np.exp(
        0.6 * vol * np.abs(streams["highs"].standard_normal(n_bars))
    )
    low = np.minimum(open_, close) * np.exp(
        -0.6 * vol * np.abs(streams["lows"].standard_normal(n_bars))
    )
    noise = np.exp(0.35 * streams["volumes"].standard_normal(n_bars))
    volume = np.round(base_volume * trait_array("volume_scale")[labels] * noise)
    return pd.DataFrame(
        {
            TIMESTAMP: bar_times(start, n_bars, timeframe),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
        }
    )


def pulled_walk(steps: npt.NDArray[np.float64], pull: float) -> npt.NDArray[np.float64]:
    """x[t] = (1 - pull) * x[t - 1] + steps[t] from x[-1] = 0, vectorised block by block.

    Inside a block x[t0 + j] = a**(j + 1) * x[t0 - 1] + a**j * cumsum(steps * a**-i)[j] with
    a = 1 - pull; blocks stay short enough that a**-i cannot overflow.
    """
    keep = 1.0 - pull
    powers = keep ** np.arange(_WALK_BLOCK, dtype=np.float64)
    walk = np.empty_like(steps)
    level = 0.0
    for begin in range(0, steps.size, _WALK_BLOCK):
        block = steps[begin : begin + _WALK_BLOCK]
        grow = powers[: block.size]
        walk[begin : begin + block.size] = grow * (keep * level + np.cumsum(block / grow))
        level = float(walk[begin + block.size - 1])
    return walk


def bar_times(start: str | date, n_bars: int, timeframe: Timeframe) -> pd.DatetimeIndex:
    """Bar open times on weekdays (Mon-Fri) from `start`: every N weekdays for Nd, every N weeks
    from a Monday for Nw, and back-to-back around the clock on weekdays for intraday bars."""
    micros = _times_at(_first_day(start), np.arange(n_bars, dtype=np.int64), timeframe)
    return pd.DatetimeIndex(micros).tz_localize("UTC").rename(TIMESTAMP)


def _times_at(
    first: np.datetime64, steps: npt.NDArray[np.int64], timeframe: Timeframe
) -> npt.NDArray[np.datetime64]:
    if timeframe.unit is TimeUnit.WEEK:
        monday = np.busday_offset(first, 0, roll="forward", weekmask="Mon")
        return (monday + steps * 7 * timeframe.amount).astype("datetime64[us]")
    if timeframe.unit is TimeUnit.DAY:
        days = np.busday_offset(first, steps * timeframe.amount, roll="forward")
        return days.astype("datetime64[us]")
    per_day = 86_400 // timeframe.seconds
    days = np.busday_offset(first, steps // per_day, roll="forward")
    offsets = (steps % per_day) * timeframe.seconds * 1_000_000
    times: npt.NDArray[np.datetime64] = days.astype("datetime64[us]")
    times += offsets.astype("timedelta64[us]")
    return times


def _streams(seed: int, index: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence([seed, index]).spawn(len(_STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(_STREAMS, children, strict=True)
    }


def _bars_per_day(timeframe: Timeframe) -> float:
    if timeframe.unit is TimeUnit.WEEK:
        return 1.0 / (5 * timeframe.amount)
    return 86_400 / timeframe.seconds


def _daily() -> Timeframe:
    return Timeframe(1, TimeUnit.DAY)


def _first_day(start: str | date) -> np.datetime64:
    try:
        stamp = pd.Timestamp(start)
    except ValueError as exc:
        raise ConfigError(f"invalid start date {start!r}; use YYYY-MM-DD", field="start") from exc
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return np.datetime64(stamp.date(), "D")


class SyntheticSource(CachedSource):
    """`n_symbols` synthetic series SYN000, SYN001, ... of `n_bars` bars each.

    Series k depends only on (`seed`, k), so it is the same whatever `n_symbols` is. Not market
    data: instruments say so, have asset class SYNTHETIC and no trading calendar. Prices are
    full-precision floats unless `decimals` quotes them like a venue (rounded to that many
    places), which is what PostgreSQL storage accepts (15 significant digits at most, ADR 0012).
    """

    name = "synthetic"

    def __init__(
        self,
        seed: int = 42,
        n_symbols: int = 10,
        n_bars: int = 2520,
        start: str | date = DEFAULT_START,
        timeframe: str | Timeframe = "1d",
        decimals: int | None = None,
    ) -> None:
        super().__init__()
        if seed < 0:
            raise ConfigError(f"seed must be >= 0, got {seed}", field="seed")
        if decimals is not None and not 0 <= decimals <= 8:
            raise ConfigError(f"decimals must be 0..8, got {decimals}", field="decimals")
        if n_symbols < 1:
            raise ConfigError(f"need at least 1 symbol, got {n_symbols}", field="symbols")
        if n_bars < 1:
            raise ConfigError(f"need at least 1 bar, got {n_bars}", field="bars")
        self.timeframe = (
            timeframe if isinstance(timeframe, Timeframe) else Timeframe.parse(timeframe)
        )
        if self.timeframe.is_intraday and 86_400 % self.timeframe.seconds:
            raise ConfigError(
                f"intraday timeframe {self.timeframe} does not divide a day evenly",
                field="timeframe",
            )
        self.seed = seed
        self.n_symbols = n_symbols
        self.n_bars = n_bars
        self.start = start
        self.decimals = decimals
        last_step = np.array([n_bars - 1], dtype=np.int64)
        if _times_at(_first_day(start), last_step, self.timeframe)[0] > _LAST_DAY:
            raise ConfigError(
                f"{n_bars} {self.timeframe} bars from {start} run past the year 9999",
                field="bars",
            )

    def symbols(self) -> list[str]:
        return [synthetic_symbol(k) for k in range(self.n_symbols)]

    def instrument(self, symbol: str) -> Instrument:
        self._index(symbol)
        return Instrument(
            symbol,
            AssetClass.SYNTHETIC,
            "USD",
            None,
            f"Synthetic regime-switching series (seed {self.seed}), not real market data",
            tick_size=None,  # prices are whatever the generator draws (or `decimals` rounds to)
        )

    def raw_bars(self, symbol: str) -> RawBars:
        frame = synthetic_bars(
            self.seed, self._index(symbol), self.n_bars, self.start, self.timeframe
        )
        if self.decimals is not None:
            # rounding is monotonic, so high >= max(open, close) >= min(open, close) >= low holds
            prices = ["open", "high", "low", "close"]
            frame[prices] = frame[prices].round(self.decimals)
        return RawBars(frame, self.timeframe)

    def regimes(self, symbol: str) -> pd.Series:
        """The regime name behind each bar of `symbol`, indexed like its bars."""
        labels = regime_labels(self.seed, self._index(symbol), self.n_bars, self.timeframe)
        names = np.array([r.name.lower() for r in Regime])[labels]
        index = bar_times(self.start, self.n_bars, self.timeframe)
        return pd.Series(names, index=index, name="regime")

    def _index(self, symbol: str) -> int:
        digits = symbol.removeprefix(SYMBOL_PREFIX)
        if symbol.startswith(SYMBOL_PREFIX) and digits.isdigit():
            index = int(digits)
            if index < self.n_symbols and synthetic_symbol(index) == symbol:
                return index
        raise DataNotFoundError(
            f"no synthetic series {symbol!r}; this source has {synthetic_symbol(0)}.."
            f"{synthetic_symbol(self.n_symbols - 1)}"
        )
