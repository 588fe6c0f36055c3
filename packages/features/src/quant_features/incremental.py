"""Incremental twins of the batch kinds: O(window) per bar, equal to batch to 1e-9."""

from __future__ import annotations

import bisect
import math
import sys
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from quant_features import specs

NAN = math.nan


class SeededEma:
    """pandas-ta's seeded exponential average: the mean of the first `length` defined inputs,
    then y = (1 - alpha) * y + alpha * x. Leading NaN inputs are skipped, as pandas-ta does."""

    def __init__(self, length: int, alpha: float) -> None:
        self.length = length
        self.alpha = alpha
        self.seed: list[float] = []
        self.value = NAN

    def update(self, x: float) -> float:
        if math.isnan(self.value):
            if math.isnan(x) and not self.seed:
                return NAN
            self.seed.append(x)
            if len(self.seed) == self.length:
                self.value = math.fsum(self.seed) / self.length
            return self.value
        self.value = (1.0 - self.alpha) * self.value + self.alpha * x
        return self.value


class Window:
    """The last `size` inputs; `full` once `size` are held and none is NaN."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: deque[float] = deque(maxlen=size)

    def push(self, x: float) -> None:
        self.values.append(x)

    @property
    def full(self) -> bool:
        return len(self.values) == self.size and not any(math.isnan(v) for v in self.values)

    def mean(self) -> float:
        return math.fsum(self.values) / self.size if self.full else NAN

    def std(self, ddof: int) -> float:
        if not self.full:
            return NAN
        mean = math.fsum(self.values) / self.size
        return math.sqrt(math.fsum((v - mean) ** 2 for v in self.values) / (self.size - ddof))


def div(a: float, b: float) -> float:
    """a / b as numpy divides: +-inf or NaN for a zero divisor instead of an exception."""
    if b == 0.0:
        return NAN if a == 0.0 or math.isnan(a) else math.copysign(math.inf, a)
    return a / b


def non_zero(difference: float) -> float:
    """pandas-ta's non_zero_range: an exact zero difference becomes machine epsilon."""
    return sys.float_info.epsilon if difference == 0.0 else difference


def log(x: float) -> float:
    """The natural log as numpy takes it: -inf at 0, NaN below 0 or for NaN."""
    if x > 0.0:
        return math.log(x)
    return -math.inf if x == 0.0 else NAN


Bar = tuple[datetime, float, float, float, float, float]
"""(timestamp, open, high, low, close, volume)."""


class _Previous:
    def __init__(self) -> None:
        self.close = NAN

    def change(self, close: float) -> float:
        previous, self.close = self.close, close
        return div(close, previous) - 1.0


class ReturnsUpdater:
    def __init__(self, spec: specs.Returns) -> None:
        self.spec = spec
        self.closes = Window(max(spec.horizons) + 1)

    def update(self, bar: Bar) -> list[float]:
        self.closes.push(bar[4])
        held = self.closes.values
        out = []
        for h in self.spec.horizons:
            if len(held) <= h:
                out.append(NAN)
                continue
            ratio = div(held[-1], held[-1 - h])
            out.append(log(ratio) if self.spec.log else ratio - 1.0)
        return out


class RsiUpdater:
    def __init__(self, spec: specs.Rsi) -> None:
        self.previous = NAN
        self.gain = SeededEma(spec.length, 1.0 / spec.length)
        self.loss = SeededEma(spec.length, 1.0 / spec.length)

    def update(self, bar: Bar) -> list[float]:
        change = bar[4] - self.previous
        self.previous = bar[4]
        gain = self.gain.update(max(change, 0.0) if not math.isnan(change) else NAN)
        loss = self.loss.update(min(change, 0.0) if not math.isnan(change) else NAN)
        total = gain + abs(loss)
        return [NAN if math.isnan(total) or total == 0.0 else 100.0 * gain / total]


class MacdUpdater:
    def __init__(self, spec: specs.Macd) -> None:
        self.fast = SeededEma(spec.fast, 2.0 / (spec.fast + 1))
        self.slow = SeededEma(spec.slow, 2.0 / (spec.slow + 1))
        self.signal = SeededEma(spec.signal, 2.0 / (spec.signal + 1))

    def update(self, bar: Bar) -> list[float]:
        close = bar[4]
        line = self.fast.update(close) - self.slow.update(close)
        signal = self.signal.update(line)
        return [div(line, close), div(signal, close), div(line - signal, close)]


class BbandsUpdater:
    def __init__(self, spec: specs.Bbands) -> None:
        self.spec = spec
        self.closes = Window(spec.length)

    def update(self, bar: Bar) -> list[float]:
        close = bar[4]
        self.closes.push(close)
        middle = self.closes.mean()
        deviation = self.spec.std * self.closes.std(ddof=0)
        lower, upper = middle - deviation, middle + deviation
        width = non_zero(upper - lower)
        return [div(non_zero(close - lower), width), div(100.0 * width, middle)]


class AtrUpdater:
    def __init__(self, spec: specs.Atr) -> None:
        self.previous = NAN
        self.average = SeededEma(spec.length, 1.0 / spec.length)

    def update(self, bar: Bar) -> list[float]:
        _, _, high, low, close, _ = bar
        previous, self.previous = self.previous, close
        true_range = (
            NAN
            if math.isnan(previous)
            else max(abs(non_zero(high - low)), abs(high - previous), abs(previous - low))
        )
        return [div(self.average.update(true_range), close)]


class MaRatioUpdater:
    def __init__(self, spec: specs.MaRatio) -> None:
        self.spec = spec
        self.closes = Window(spec.length)
        self.ema = SeededEma(spec.length, 2.0 / (spec.length + 1))

    def update(self, bar: Bar) -> list[float]:
        close = bar[4]
        if self.spec.average == "ema":
            return [div(close, self.ema.update(close)) - 1.0]
        self.closes.push(close)
        return [div(close, self.closes.mean()) - 1.0]


class RollingUpdater:
    def __init__(self, spec: specs.Rolling) -> None:
        self.spec = spec
        self.window = Window(spec.window)
        self.previous = _Previous()

    def update(self, bar: Bar) -> list[float]:
        if self.spec.input == "return":
            x = self.previous.change(bar[4])
        else:
            x = bar[4] if self.spec.input == "close" else bar[5]
        self.window.push(x)
        out = []
        for stat in self.spec.stats:
            if not self.window.full:
                out.append(NAN)
            elif stat == "mean":
                out.append(self.window.mean())
            elif stat == "std":
                out.append(self.window.std(ddof=1))
            elif stat == "min":
                out.append(min(self.window.values))
            elif stat == "max":
                out.append(max(self.window.values))
            else:
                out.append(div(x - self.window.mean(), self.window.std(ddof=1)))
        return out


class VolatilityUpdater:
    def __init__(self, spec: specs.Volatility) -> None:
        self.scale = math.sqrt(spec.periods_per_year)
        self.window = Window(spec.window)
        self.previous = NAN

    def update(self, bar: Bar) -> list[float]:
        log_close = log(bar[4])
        self.window.push(log_close - self.previous)
        self.previous = log_close
        return [self.window.std(ddof=1) * self.scale]


class VolumeUpdater:
    def __init__(self, spec: specs.Volume) -> None:
        self.volumes = Window(spec.window)
        self.dollars = Window(spec.window)

    def update(self, bar: Bar) -> list[float]:
        close, volume = bar[4], bar[5]
        self.volumes.push(volume)
        self.dollars.push(close * volume)
        mean_dollars = self.dollars.mean()
        return [
            div(volume, self.volumes.mean()),
            log(mean_dollars),
        ]


_CALENDAR: dict[str, Callable[[datetime], int]] = {
    "day_of_week": lambda t: t.weekday(),
    "day_of_month": lambda t: t.day,
    "month": lambda t: t.month,
    "quarter": lambda t: (t.month - 1) // 3 + 1,
    "day_of_year": lambda t: t.timetuple().tm_yday,
}


class CalendarUpdater:
    def __init__(self, spec: specs.Calendar) -> None:
        self.parts = [_CALENDAR[name] for name in spec.fields]

    def update(self, bar: Bar) -> list[float]:
        return [float(part(bar[0])) for part in self.parts]


class TrailingOrder:
    """The defined values among the last `size` pushed, kept sorted (O(size) per push)."""

    def __init__(self, size: int) -> None:
        self.recent: deque[float] = deque(maxlen=size)
        self.ordered: list[float] = []

    def push(self, x: float) -> None:
        if len(self.recent) == self.recent.maxlen:
            leaving = self.recent[0]
            if not math.isnan(leaving):
                del self.ordered[bisect.bisect_left(self.ordered, leaving)]
        self.recent.append(x)
        if not math.isnan(x):
            bisect.insort(self.ordered, x)


class RegimeUpdater:
    def __init__(self, spec: specs.Regime) -> None:
        self.spec = spec
        self.previous = NAN
        self.fast = Window(spec.range_window)
        self.slow = Window(spec.calm_window)
        self.gauges = TrailingOrder(spec.reference_window)
        self.trend = Window(spec.trend_window)

    def update(self, bar: Bar) -> list[float]:
        _, _, high, low, close, _ = bar
        previous, self.previous = self.previous, close
        if math.isnan(high) or math.isnan(low) or math.isnan(previous):
            true_range = NAN
        else:
            true_range = log(div(max(high, previous), min(low, previous)))
        self.fast.push(true_range)
        self.slow.push(true_range)
        fast = self.fast.mean()
        self.gauges.push(fast)
        held = self.gauges.ordered
        reference = (
            held[self.spec.reference_rank(len(held))]
            if len(held) >= self.spec.reference_min
            else NAN
        )
        range_ratio = div(fast, reference)
        calm_ratio = div(self.slow.mean(), reference)
        self.trend.push(close)
        trend = div(close, self.trend.mean()) - 1.0
        return [range_ratio, calm_ratio, trend, self.spec.code(range_ratio, calm_ratio, trend)]


class CrossRankSlot:
    """A placeholder column; the updater ranks it across symbols once every symbol is in."""

    def __init__(self, spec: specs.CrossRank) -> None:
        self.spec = spec

    def update(self, bar: Bar) -> list[float]:
        return [NAN]


UPDATERS: dict[str, Callable[[Any], Any]] = {
    "returns": ReturnsUpdater,
    "rsi": RsiUpdater,
    "macd": MacdUpdater,
    "bbands": BbandsUpdater,
    "atr": AtrUpdater,
    "ma_ratio": MaRatioUpdater,
    "rolling": RollingUpdater,
    "volatility": VolatilityUpdater,
    "volume": VolumeUpdater,
    "calendar": CalendarUpdater,
    "regime": RegimeUpdater,
    "cross_rank": CrossRankSlot,
}
