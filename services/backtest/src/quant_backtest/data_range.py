"""When a run finds no bars, say whether its start or end (given, or the config's) left the
data, and which range exists: the CLI and the notebook entry point say what the API says at
submission, at no cost to a run whose dates fit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from quant_domain import ConfigError, DataNotFoundError, QuantError
from quant_engine import BacktestConfig
from quant_marketdata import DataSource
from quant_strategy import StrategyConfig
from quant_strategy.coverage import DataSpan, check_dates


def date_problem(
    config: StrategyConfig,
    source: DataSource,
    bt: BacktestConfig,
    name: Callable[[str], str] = str,
) -> ConfigError | None:
    """The run's start or end outside `source`'s bars for the universe, as a ConfigError naming
    the setting (`name("start")`, e.g. "--start") or, when the date came from the config, its
    file and line, with the range that exists; None when the dates fit."""
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
            return ConfigError(exc.message, field=name(field))
        return config.error(field, exc.message)
    return None


@contextmanager
def dates_explained(
    config: StrategyConfig,
    source: DataSource,
    bt: BacktestConfig,
    name: Callable[[str], str] = str,
) -> Iterator[None]:
    """Turn a run's "no bars" into the date problem behind it, when that is the cause."""
    try:
        yield
    except DataNotFoundError:
        problem = date_problem(config, source, bt, name)
        if problem is None:
            raise
        raise problem from None
