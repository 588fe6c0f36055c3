"""Collectors that read live state when Prometheus scrapes, so nothing is updated on the order path."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from quant_telemetry.metrics import LAST_BAR_AGE, GaugeSpec

T = TypeVar("T")
Reading = Mapping[tuple[str, ...], float]

log = structlog.get_logger("quant.telemetry")


class ScrapedGauge(Collector):
    """One gauge family whose samples come from `read()` at scrape time.

    `read` returns label values (in the spec's label order) mapped to the value; an unlabelled gauge
    uses the empty tuple. A failing read yields the family without samples: a scrape never fails
    because one source (Redis, PostgreSQL) is down, and the missing series is itself the signal.
    """

    def __init__(self, spec: GaugeSpec, read: Callable[[], Reading]) -> None:
        self.spec = spec
        self._read = read

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield self._family()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = self._family()
        try:
            reading = self._read()
        except Exception as exc:  # any source failure: report it, keep the rest of the scrape
            log.warning("metric_read_failed", metric=self.spec.name, error=repr(exc))
            reading = {}
        for labels, value in reading.items():
            family.add_metric(list(labels), float(value))
        yield family

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            self.spec.name, self.spec.documentation, labels=list(self.spec.labels)
        )


class LastBarAges(Collector):
    """Remembers when each symbol's last bar was published; exports the age at scrape time.

    The clock starts at publication, not at the bar's own time, so a replay of old history and a
    live feed read the same way: the age grows while a feed is stalled. `mark` is a dict store
    under a lock (well under a microsecond), called where bars are published, never inside the
    trading loop's per-bar step.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._ends: dict[str, float] = {}
        self._lock = threading.Lock()

    def mark(self, symbol: str, at: datetime | float | None = None) -> None:
        """`symbol` had a bar published at `at` (default: now)."""
        if at is None:
            stamp = self._clock()
        else:
            stamp = at.timestamp() if isinstance(at, datetime) else float(at)
        with self._lock:
            if stamp >= self._ends.get(symbol, float("-inf")):
                self._ends[symbol] = stamp

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            LAST_BAR_AGE.name, LAST_BAR_AGE.documentation, labels=list(LAST_BAR_AGE.labels)
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            LAST_BAR_AGE.name, LAST_BAR_AGE.documentation, labels=list(LAST_BAR_AGE.labels)
        )
        with self._lock:
            ends = dict(self._ends)
        now = self._clock()
        for symbol, end in sorted(ends.items()):
            family.add_metric([symbol], max(0.0, now - end))
        yield family


def on_loop(
    loop: asyncio.AbstractEventLoop,
    factory: Callable[[], Coroutine[Any, Any, T]],
    timeout: float = 2.0,
) -> Callable[[], T]:
    """A blocking reader that runs `factory()` on a service's event loop (its own Redis or
    database connections) from the metrics server's thread, giving up after `timeout` seconds.

    Only for the standalone metrics server: called on the loop's own thread it would deadlock,
    so that raises instead.
    """

    def read() -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("on_loop reader called on its own event loop; use a sync reader")
        future = asyncio.run_coroutine_threadsafe(factory(), loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    return read
