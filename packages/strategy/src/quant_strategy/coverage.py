"""Which dates the data covers, and the refusal of a start or end outside them.

The API, the CLI and the notebook entry point check a run's dates against the first and last
bar of each symbol before anything runs, so a range with no data is refused at once with the
range that exists, instead of failing later in the worker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from quant_domain import ConfigError


@dataclass(frozen=True, slots=True)
class DataSpan:
    """The first and last bar time of one symbol (UTC)."""

    first: datetime
    last: datetime

    def describe(self) -> str:
        return f"{self.first.date()} to {self.last.date()}"


def common_span(spans: Sequence[DataSpan]) -> DataSpan | None:
    """The dates every span covers, None when they share none (or there are none)."""
    if not spans:
        return None
    first, last = max(s.first for s in spans), min(s.last for s in spans)
    return DataSpan(first, last) if first <= last else None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _day_end(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def check_dates(
    universe: Sequence[str],
    spans: Mapping[str, DataSpan],
    start: date | None,
    end: date | None,
) -> None:
    """Refuse a `start` after some symbol's last bar or an `end` before some symbol's first bar
    (the run would have no bars for it). Symbols without a span are not judged here.

    Raises:
        ConfigError: field "start" or "end", naming the symbol, its range and, for several
            symbols, the range they all have.
    """
    known = [symbol for symbol in universe if symbol in spans]
    shared = common_span([spans[symbol] for symbol in known])
    if len(known) > 1:
        together = (
            f"; the range all of {', '.join(known)} have is {shared.describe()}"
            if shared is not None
            else f"; {', '.join(known)} have no dates in common"
        )
    else:
        together = ""
    for symbol in known:
        span = spans[symbol]
        if start is not None and span.last < _day_start(start):
            raise ConfigError(
                f"no {symbol} bars on or after {start}: {symbol} has bars from "
                f"{span.describe()}{together}",
                field="start",
            )
        if end is not None and span.first > _day_end(end):
            raise ConfigError(
                f"no {symbol} bars on or before {end}: {symbol} has bars from "
                f"{span.describe()}{together}",
                field="end",
            )
