"""backtest(strategy, ...) for notebooks and scripts: a config by id or path, overrides by name,
the sample data by default, and the results as pandas frames and a dict (docs/notebook.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from quant_backtest.data_range import dates_explained
from quant_backtest.result import BacktestResult
from quant_backtest.runner import run
from quant_domain import ConfigError, PositionSizing, Trade
from quant_domain.errors import first_validation_error
from quant_engine import BacktestConfig
from quant_engine.config import OLD_NAMES
from quant_marketdata import DataSource, open_source
from quant_strategy import StrategyConfig, check_params, load_strategy_config
from quant_strategy.strategy_folder import config_files, strategies_path

CONFIGS_DIR = Path("configs/strategies")


def find_config(strategy_id: str, folders: Sequence[Path] | None = None) -> Path:
    """The YAML file whose `id` is `strategy_id`, in configs/strategies then the strategies folder
    (both relative to the working directory, as the CLI reads them)."""
    folders = list(folders) if folders is not None else [CONFIGS_DIR, strategies_path()]
    files = [path for folder in folders for path in config_files(folder)]
    for path in files:  # the usual case: the file is named after the id
        if path.stem == strategy_id:
            return path
    for path in files:
        try:
            if load_strategy_config(path).id == strategy_id:
                return path
        except ConfigError:
            continue
    searched = ", ".join(str(folder) for folder in folders)
    raise ConfigError(
        f"no strategy config with id {strategy_id!r} in {searched}; pass the YAML file's path "
        "or run from the project folder",
        field="strategy",
    )


def _strategy(
    strategy: str | Path | StrategyConfig,
    params: Mapping[str, Any] | None,
    universe: Sequence[str] | None,
) -> StrategyConfig:
    if isinstance(strategy, StrategyConfig):
        config = strategy
    elif isinstance(strategy, Path) or str(strategy).endswith((".yaml", ".yml")):
        config = load_strategy_config(strategy)
    else:
        config = load_strategy_config(find_config(str(strategy)))
    changes: dict[str, Any] = {}
    if params:
        changes["params"] = {**config.params, **params}
    if universe is not None:
        changes["universe"] = list(universe)
    if changes:
        # a config of its own, without the file's lines: an error names the field as passed here
        try:
            config = StrategyConfig.model_validate({**config.model_dump(by_alias=True), **changes})
        except ValidationError as exc:
            field, message = first_validation_error(exc)
            raise ConfigError(message, field=field) from None
    check_params(config)
    return config


def _settings(config: StrategyConfig, settings: Mapping[str, Any]) -> BacktestConfig:
    values = dict(settings)
    for old, new in OLD_NAMES.items():
        if old in values:
            raise ConfigError(f"the setting is called {new} now (ADR 0019)", field=old)
    sizing = values.pop("sizing", None)
    base = config.sizing or PositionSizing()
    if isinstance(sizing, PositionSizing):
        values["sizing"] = sizing
    else:
        values["sizing"] = {**base.model_dump(), **(sizing or {})}
    values.setdefault("seed", config.seed)
    try:
        return BacktestConfig.model_validate(values)
    except ValidationError as exc:
        field, message = first_validation_error(exc)
        raise ConfigError(message, field=field or "start/end") from None


def trades_frame(trades: Sequence[Trade]) -> pd.DataFrame:
    """One row per trade, numbers as floats (the result's Trade objects keep exact Decimals)."""
    rows = [
        {
            "trade_id": t.trade_id,
            "symbol": t.symbol,
            "direction": t.direction.value,
            "status": "open" if t.is_open else "closed",
            "quantity": float(t.quantity),
            "entry_time": t.entry_time,
            "entry_price": float(t.entry_price),
            "exit_time": t.exit_time,
            "exit_price": None if t.exit_price is None else float(t.exit_price),
            "gross_pnl": float(t.gross_pnl),
            "commission": float(t.commission),
            "pnl": float(t.pnl),
            "return_pct": t.return_pct,
            "bars_held": t.bars_held,
            **{
                name: None if value is None else float(value)
                for name, value in t.excursions().items()
            },
            "regime": t.regime,
        }
        for t in trades
    ]
    return pd.DataFrame(rows, columns=list(_TRADE_COLUMNS))


_TRADE_COLUMNS = (
    "trade_id",
    "symbol",
    "direction",
    "status",
    "quantity",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "gross_pnl",
    "commission",
    "pnl",
    "return_pct",
    "bars_held",
    "mfe",
    "mfe_pct",
    "mfe_value",
    "mae",
    "mae_pct",
    "mae_value",
    "given_back",
    "given_back_pct",
    "given_back_value",
    "regime",
)


@dataclass(frozen=True)
class Backtest:
    """One backtest's results for a notebook: `equity` and `trades` as DataFrames, `metrics` as a
    dict, and the whole BacktestResult (fills, orders, metadata) as `result`."""

    result: BacktestResult

    @property
    def equity(self) -> pd.DataFrame:
        """Per bar: equity, cash, positions_value, gross_exposure, drawdown (a fraction below the
        running peak) and, with a benchmark, its buy-and-hold equity."""
        frame = self.result.equity.copy()
        frame["drawdown"] = frame["equity"] / frame["equity"].cummax() - 1.0
        if self.result.benchmark is not None:
            frame["benchmark"] = self.result.benchmark
        return frame

    @property
    def trades(self) -> pd.DataFrame:
        return trades_frame(self.result.trades)

    @property
    def metrics(self) -> dict[str, Any]:
        """Every metric by name (ratios as fractions: 0.25 is 25 %); undefined ones are None."""
        return dict(self.result.metrics.as_dict())

    def write_report(self, folder: str | Path) -> Path:
        """report.html and result.json in `folder`, as `quant backtest` writes them; the HTML."""
        from quant_backtest.report_html import write_html_report  # noqa: PLC0415 - plotly
        from quant_backtest.report_json import write_json_report  # noqa: PLC0415

        write_json_report(self.result, Path(folder) / "result.json")
        return write_html_report(self.result, Path(folder) / "report.html")


def backtest(
    strategy: str | Path | StrategyConfig,
    *,
    params: Mapping[str, Any] | None = None,
    universe: Sequence[str] | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    data: str | DataSource | None = None,
    **settings: Any,
) -> Backtest:
    """Backtest a strategy config from Python.

    Args:
        strategy: a config id ("momentum_v1", looked up in configs/strategies and the strategies
            folder), a YAML path, or a StrategyConfig.
        params: param overrides, validated by the strategy's class.
        universe: symbols replacing the config's universe.
        start, end: the first and last day ("2010-01-04" or a date); default: the config's.
        data: a source spec ("samples", "synthetic:seed=7", a folder) or a DataSource; default:
            the config's `data`, else the bundled samples.
        **settings: BacktestConfig fields by their one name (initial_capital,
            commission_per_trade, commission_bps, slippage_bps, fill_timing, sizing (a dict laid
            over the config's), periods_per_year, risk_free_rate, seed, warmup_bars, ...).

    Raises:
        ConfigError: a bad id, path, param, setting or date (with the range the data has).
    """
    config = _strategy(strategy, params, universe)
    bt = _settings(config, {**settings, "start": start, "end": end})
    source = data if isinstance(data, DataSource) else open_source(data or config.file_source)
    with dates_explained(config, source, bt):
        return Backtest(run(config, source, bt))
