"""The feature kinds a feature-set file may declare, each with the columns it produces."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CODE_VERSIONS: dict[str, int] = {
    "returns": 1,
    "rsi": 1,
    "macd": 1,
    "bbands": 1,
    "atr": 1,
    "ma_ratio": 1,
    "rolling": 1,
    "volatility": 1,
    "volume": 1,
    "calendar": 1,
    "cross_rank": 1,
    "regime": 2,  # 2: true-range gauges against a trailing quantile (was a volatility rank)
}
"""The code version of each kind's functions: bump one when its numbers change, so every set
using it gets a new version and the store computes it afresh (ADR 0047)."""


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def columns(self) -> list[str]:
        raise TypeError(f"{type(self).__name__} names no columns")  # every kind overrides it

    def warmup(self) -> int:
        """Bars before the first defined value (0 = defined from the first bar)."""
        return 0


class Returns(_Spec):
    """Simple returns close[t] / close[t - h] - 1 (or log returns) over each horizon."""

    kind: Literal["returns"]
    horizons: list[Annotated[int, Field(ge=1, le=2520)]] = Field(min_length=1)
    log: bool = False

    @field_validator("horizons")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("a horizon is listed twice")
        return value

    def columns(self) -> list[str]:
        prefix = "logret" if self.log else "ret"
        return [f"{prefix}_{h}" for h in self.horizons]

    def warmup(self) -> int:
        return max(self.horizons)


class Rsi(_Spec):
    """pandas-ta's RSI (Wilder's smoothing seeded with a simple mean)."""

    kind: Literal["rsi"]
    length: int = Field(default=14, ge=2, le=500)

    def columns(self) -> list[str]:
        return [f"rsi_{self.length}"]

    def warmup(self) -> int:
        return self.length


class Macd(_Spec):
    """pandas-ta's MACD line, signal and histogram, each divided by the close (scale-free)."""

    kind: Literal["macd"]
    fast: int = Field(default=12, ge=2, le=500)
    slow: int = Field(default=26, ge=3, le=500)
    signal: int = Field(default=9, ge=2, le=500)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> Macd:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be below slow ({self.slow})")
        return self

    def columns(self) -> list[str]:
        tag = f"{self.fast}_{self.slow}_{self.signal}"
        return [f"macd_{tag}", f"macd_signal_{tag}", f"macd_hist_{tag}"]

    def warmup(self) -> int:
        return self.slow + self.signal - 2


class Bbands(_Spec):
    """pandas-ta's Bollinger bands as %b (where the close sits) and width (percent of middle)."""

    kind: Literal["bbands"]
    length: int = Field(default=20, ge=2, le=500)
    std: float = Field(default=2.0, gt=0, le=10)

    def columns(self) -> list[str]:
        return [f"bb_pctb_{self.length}", f"bb_width_{self.length}"]

    def warmup(self) -> int:
        return self.length - 1


class Atr(_Spec):
    """pandas-ta's average true range (Wilder), divided by the close."""

    kind: Literal["atr"]
    length: int = Field(default=14, ge=2, le=500)

    def columns(self) -> list[str]:
        return [f"atr_pct_{self.length}"]

    def warmup(self) -> int:
        return self.length


class MaRatio(_Spec):
    """close / moving average - 1, the average from pandas-ta (sma, or ema seeded by an sma)."""

    kind: Literal["ma_ratio"]
    length: int = Field(ge=2, le=1000)
    average: Literal["sma", "ema"] = "sma"

    def columns(self) -> list[str]:
        return [f"{self.average}_ratio_{self.length}"]

    def warmup(self) -> int:
        return self.length - 1


RollingStat = Literal["mean", "std", "min", "max", "zscore"]


class Rolling(_Spec):
    """Statistics of one input over a trailing window; std is the sample one (ddof 1)."""

    kind: Literal["rolling"]
    input: Literal["return", "close", "volume"] = "return"
    window: int = Field(ge=2, le=2520)
    stats: list[RollingStat] = Field(min_length=1)

    @field_validator("stats")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a statistic is listed twice")
        return value

    def columns(self) -> list[str]:
        return [f"roll_{self.input}_{stat}_{self.window}" for stat in self.stats]

    def warmup(self) -> int:
        return self.window - (0 if self.input == "return" else 1)


class Volatility(_Spec):
    """Sample std of log returns over a window, annualised by sqrt(periods_per_year)."""

    kind: Literal["volatility"]
    window: int = Field(default=20, ge=2, le=2520)
    periods_per_year: int = Field(default=252, ge=1, le=1_000_000)

    def columns(self) -> list[str]:
        return [f"vol_{self.window}"]

    def warmup(self) -> int:
        return self.window


class Volume(_Spec):
    """Volume against its trailing mean, and the log of the trailing mean dollar volume."""

    kind: Literal["volume"]
    window: int = Field(default=20, ge=2, le=2520)

    def columns(self) -> list[str]:
        return [f"volume_ratio_{self.window}", f"log_dollar_volume_{self.window}"]

    def warmup(self) -> int:
        return self.window - 1


CalendarField = Literal["day_of_week", "day_of_month", "month", "quarter", "day_of_year"]


class Calendar(_Spec):
    """Parts of the bar's UTC timestamp (Monday = 0, January = 1)."""

    kind: Literal["calendar"]
    fields: list[CalendarField] = Field(min_length=1)

    def columns(self) -> list[str]:
        return [f"cal_{name}" for name in self.fields]


class CrossRank(_Spec):
    """Percentile rank (0..1] of an earlier feature across the universe's symbols at each time."""

    kind: Literal["cross_rank"]
    of: str = Field(min_length=1)

    def columns(self) -> list[str]:
        return [f"xrank_{self.of}"]


class Regime(_Spec):
    """A causal market regime from how much prices move now against how much they usually move,
    with a trend check that keeps a quiet rise a bull market.

    The gauge is the mean true range as a log ratio, log(max(high, previous close) /
    min(low, previous close)), over `range_window` bars (fast) and `calm_window` bars (slow).
    The reference is the `reference_quantile` lower order statistic of the fast gauge over the
    last `reference_window` bars (the gauge's usual quiet level; defined once `reference_min`
    values are in view), so the rule is scale-free. With range_ratio = fast / reference,
    calm_ratio = slow / reference and trend = close / SMA(trend_window) - 1:

    regime = 3 (high volatility) when range_ratio >= high_vol, else 1 (bear) when range_ratio
    >= bear, else 0 (bull) when trend > band, else 2 (sideways) when calm_ratio < calm, else 0.

    The codes are those of quant_marketdata's synthetic Regime, so the two can be compared; the
    defaults agree with its true regimes on ~82 % of bars, 83 % once the reference window is
    full (bench/regime_agreement.py, docs/benchmarks.md, ADR 0046).
    """

    kind: Literal["regime"]
    range_window: int = Field(default=10, ge=1, le=2520)
    calm_window: int = Field(default=20, ge=1, le=2520)
    reference_window: int = Field(default=2520, ge=2, le=5040)
    reference_min: int = Field(default=252, ge=1, le=5040)
    reference_quantile: float = Field(default=0.1, ge=0, le=1)
    calm: float = Field(default=1.2, gt=0)
    bear: float = Field(default=2.0, gt=0)
    high_vol: float = Field(default=4.0, gt=0)
    trend_window: int = Field(default=50, ge=2, le=2520)
    band: float = Field(default=0.05, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Regime:
        if self.reference_min > self.reference_window:
            raise ValueError(
                f"reference_min ({self.reference_min}) must not exceed reference_window"
                f" ({self.reference_window})"
            )
        if not self.bear < self.high_vol:
            raise ValueError(f"bear ({self.bear}) must be below high_vol ({self.high_vol})")
        return self

    def code(self, range_ratio: float, calm_ratio: float, trend: float) -> float:
        """The regime code from the three gauges (NaN while any is); batch.regime_codes is the
        vectorised twin."""
        if math.isnan(range_ratio) or math.isnan(calm_ratio) or math.isnan(trend):
            return math.nan
        if range_ratio >= self.high_vol:
            return 3.0
        if range_ratio >= self.bear:
            return 1.0
        if trend > self.band:
            return 0.0
        return 2.0 if calm_ratio < self.calm else 0.0

    def columns(self) -> list[str]:
        return ["regime_range_ratio", "regime_calm_ratio", "regime_trend", "regime"]

    def reference_rank(self, defined: int) -> int:
        """Which of `defined` sorted gauge values is the reference (pandas' "lower" quantile)."""
        return int(self.reference_quantile * (defined - 1))

    def warmup(self) -> int:
        # true ranges start at bar 1 (they need the previous close)
        return max(
            self.range_window + self.reference_min - 1, self.calm_window, self.trend_window - 1
        )


FeatureSpec = Annotated[
    Returns
    | Rsi
    | Macd
    | Bbands
    | Atr
    | MaRatio
    | Rolling
    | Volatility
    | Volume
    | Calendar
    | CrossRank
    | Regime,
    Field(discriminator="kind"),
]
