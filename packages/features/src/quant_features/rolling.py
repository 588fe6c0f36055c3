"""Incremental indicators: O(1) per bar, identical to their vectorised twins in `vectorised.py`."""

from __future__ import annotations

import math

RESUM_EVERY = 100_000
"""Running sums are recomputed every this many updates so float drift cannot build up; the
compiled twin uses the same value to stay equal bit for bit."""


class SimpleMovingAverage:
    """Mean of the last `period` values; `value` is None until the window is full."""

    __slots__ = ("_buffer", "_count", "_index", "_period", "_sum", "value")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError(f"period must be >= 1, got {period}")
        self._period = period
        self._buffer = [0.0] * period
        self._index = 0
        self._count = 0
        self._sum = 0.0
        self.value: float | None = None

    @property
    def period(self) -> int:
        return self._period

    def update(self, x: float) -> float | None:
        i = self._index
        self._sum += x - self._buffer[i]
        self._buffer[i] = x
        i += 1
        self._index = 0 if i == self._period else i
        self._count += 1
        if self._count < self._period:
            return None
        if self._count % RESUM_EVERY == 0:
            # plain left-to-right sum in storage order, so the compiled twin can match it bit for bit
            total = 0.0
            for v in self._buffer:
                total += v
            self._sum = total
        self.value = self._sum / self._period
        return self.value


class RollingStd:
    """Population standard deviation of the last `period` values (Bollinger convention)."""

    __slots__ = ("_buffer", "_count", "_index", "_period", "mean", "value")

    def __init__(self, period: int) -> None:
        if period < 2:
            raise ValueError(f"period must be >= 2, got {period}")
        self._period = period
        self._buffer = [0.0] * period
        self._index = 0
        self._count = 0
        self.mean: float | None = None
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        self._buffer[self._index] = x
        self._index = (self._index + 1) % self._period
        self._count += 1
        if self._count < self._period:
            return None
        # two-pass over the window: exact enough to match numpy to 1e-12 and cheap for short windows
        mean = math.fsum(self._buffer) / self._period
        var = math.fsum((v - mean) ** 2 for v in self._buffer) / self._period
        self.mean = mean
        self.value = math.sqrt(var)
        return self.value


class BollingerBands:
    """Middle band = SMA(period); upper/lower = middle +/- width * population std."""

    __slots__ = ("_std", "lower", "middle", "upper", "width")

    def __init__(self, period: int = 20, width: float = 2.0) -> None:
        self._std = RollingStd(period)
        self.width = width
        self.middle: float | None = None
        self.upper: float | None = None
        self.lower: float | None = None

    def update(self, x: float) -> bool:
        """Feed one value; True once the bands are defined."""
        std = self._std.update(x)
        if std is None or self._std.mean is None:
            return False
        self.middle = self._std.mean
        self.upper = self.middle + self.width * std
        self.lower = self.middle - self.width * std
        return True


class RelativeStrengthIndex:
    """Wilder's RSI: seeded with the simple mean of the first `period` changes, then smoothed."""

    __slots__ = (
        "_avg_gain",
        "_avg_loss",
        "_count",
        "_gains",
        "_losses",
        "_period",
        "_prev",
        "value",
    )

    def __init__(self, period: int = 14) -> None:
        if period < 1:
            raise ValueError(f"period must be >= 1, got {period}")
        self._period = period
        self._prev: float | None = None
        self._count = 0
        self._gains = 0.0
        self._losses = 0.0
        self._avg_gain = 0.0
        self._avg_loss = 0.0
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        prev = self._prev
        self._prev = x
        if prev is None:
            return None
        change = x - prev
        gain = change if change > 0 else 0.0
        loss = -change if change < 0 else 0.0
        self._count += 1
        n = self._period
        if self._count < n:
            self._gains += gain
            self._losses += loss
            return None
        if self._count == n:
            self._avg_gain = (self._gains + gain) / n
            self._avg_loss = (self._losses + loss) / n
        else:
            self._avg_gain = (self._avg_gain * (n - 1) + gain) / n
            self._avg_loss = (self._avg_loss * (n - 1) + loss) / n
        self.value = rsi_from_averages(self._avg_gain, self._avg_loss)
        return self.value


def rsi_from_averages(avg_gain: float, avg_loss: float) -> float:
    if avg_loss == 0.0:
        return 100.0 if avg_gain > 0.0 else 50.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
