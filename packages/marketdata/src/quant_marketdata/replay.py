"""Replaying stored bars as if they were closing now: the steps a paper session over history sees.

`replay_steps` turns per-symbol bar frames into the sequence a live data feed produces: one step
per timestamp, holding the bars of every symbol that traded then. `Replay` paces those steps on a
chosen speed: `1x` waits as long as the bars were apart, `60x` sixty times less, `max` not at all.
The data service publishes each step as `BarClosed` events; tests and the parity check feed the
steps straight into a PaperSession.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from quant_domain import Bar, ConfigError

Step = tuple[datetime, list[Bar]]

_SPEED = re.compile(r"^(?:max|(\d+(?:\.\d+)?)x)$")


def parse_speed(text: str) -> float | None:
    """`"1x"` -> 1.0, `"60x"` -> 60.0, `"max"` -> None (no waiting); anything else is refused."""
    match = _SPEED.match(text.strip().lower())
    if match is None or (match.group(1) is not None and float(match.group(1)) <= 0):
        raise ConfigError(f"replay speed {text!r} is not one of 1x, 60x, ... or max", field="speed")
    return None if match.group(1) is None else float(match.group(1))


def replay_steps(frames: Mapping[str, pd.DataFrame]) -> Iterator[Step]:
    """One step per distinct timestamp across `frames` (each in the market-data frame shape, by
    UTC time), in time order, with the bars of the symbols that have one then."""
    if not frames:
        return
    first, *others = frames.values()
    index = pd.DatetimeIndex(first.index)
    for frame in others:
        index = index.union(pd.DatetimeIndex(frame.index))
    columns: dict[str, tuple[np.ndarray, ...]] = {}
    for symbol, frame in frames.items():
        aligned = frame.reindex(index)
        columns[symbol] = tuple(
            aligned[c].to_numpy(dtype=np.float64)
            for c in ("open", "high", "low", "close", "volume")
        )
    for i, stamp in enumerate(index.to_pydatetime()):
        bars = []
        for symbol, (o, h, lo, c, v) in columns.items():
            if not math.isnan(c[i]):
                bars.append(
                    Bar(
                        symbol,
                        stamp,
                        float(o[i]),
                        float(h[i]),
                        float(lo[i]),
                        float(c[i]),
                        float(v[i]),
                    )
                )
        yield stamp, bars


@dataclass(slots=True)
class Replay:
    """Steps paced at `speed` (None: as fast as the consumer takes them).

    The wait before a step is the bar time elapsed since the previous step divided by the speed,
    measured against a monotonic clock so a slow consumer does not accumulate extra delay.
    `sleep` and `monotonic` are injectable for tests.
    """

    steps: Iterator[Step]
    speed: float | None
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    _origin: tuple[datetime, float] | None = field(default=None, init=False)

    def __iter__(self) -> Iterator[Step]:
        for step in self.steps:
            delay = self.delay(step[0])
            if delay > 0:
                self.sleep(delay)
            yield step

    def delay(self, stamp: datetime) -> float:
        """Seconds to wait before the step at `stamp` (0.0 at `max` speed and for the first);
        an asynchronous publisher awaits it instead of sleeping."""
        if self.speed is None:
            return 0.0
        if self._origin is None:
            self._origin = (stamp, self.monotonic())
            return 0.0
        first, started = self._origin
        due = started + (stamp - first).total_seconds() / self.speed
        return max(due - self.monotonic(), 0.0)
