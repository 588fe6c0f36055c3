"""When a run finds no bars, say whether --start/--end (or the config's dates) left the data,
and which range exists, as the API does at submission."""

# ruff: noqa: PLC0415 - strategies load when a command runs, not for --help
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from quant_domain import ConfigError, DataNotFoundError, QuantError

if TYPE_CHECKING:
    from quant_engine import BacktestConfig
    from quant_marketdata import DataSource
    from quant_strategy import StrategyConfig


def date_problem(
    config: StrategyConfig, source: DataSource, bt: BacktestConfig
) -> ConfigError | None:
    """The run's start or end outside `source`'s bars for the universe, as a ConfigError naming
    the flag (or the config file's line) and the range that exists; None when the dates fit."""
    from quant_strategy.coverage import DataSpan, check_dates

    spans: dict[str, DataSpan] = {}
    for symbol in config.universe:
        try:
            bars = source.get_bars(symbol, None, None, config.parsed_timeframe)
        except QuantError:
            continue
        if not bars.empty:
            spans[symbol] = DataSpan(bars.index[0].to_pydatetime(), bars.index[-1].to_pydatetime())
    try:
        check_dates(config.universe, spans, bt.start or config.start, bt.end or config.end)
    except ConfigError as exc:
        field = exc.field or "start"
        if getattr(bt, field) is not None:
            return ConfigError(exc.message, field=f"--{field}")
        return config.error(field, exc.message)
    return None


@contextmanager
def dates_explained(
    config: StrategyConfig, source: DataSource, bt: BacktestConfig
) -> Iterator[None]:
    """Turn a run's "no bars" into the date problem behind it, when that is the cause."""
    try:
        yield
    except DataNotFoundError:
        problem = date_problem(config, source, bt)
        if problem is None:
            raise
        raise problem from None
