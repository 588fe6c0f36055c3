"""`quant walk-forward`: optimise in-sample, trade out-of-sample, and report honestly."""

# ruff: noqa: PLC0415 - numba, the grid search and reports load when the command runs, not for --help
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from quant_cli.data_options import DataOption, EndOption, StartOption
from quant_cli.errors import fail, user_errors, validation_message
from quant_cli.model_loading import loaded_models
from quant_cli.options import (
    DEFAULT_CAPITAL,
    DEFAULT_COMMISSION,
    DEFAULT_COMMISSION_BPS,
    DEFAULT_SLIPPAGE_BPS,
    CommissionBpsOption,
    CommissionPerTradeOption,
    FillTimingOption,
    InitialCapitalOption,
    SlippageOption,
    flag,
    make_backtest_config,
    written,
)
from quant_cli.sources import open_data
from quant_domain import ConfigError
from quant_engine import FillTiming
from quant_engine.objectives import Objective
from quant_engine.walk_forward_config import WalkForwardConfig, WindowType

if TYPE_CHECKING:
    from quant_backtest.walk_forward_model import WalkForwardResult
    from quant_strategy import StrategyConfig

_MIN_TRADES = ("--min-trades-required", "--min-trades")  # the flag, then its old spelling
_WF_FLAGS = {
    "in_sample_days": "--in-sample-days",
    "out_of_sample_days": "--out-of-sample-days",
    "step_days": "--step-days",
    "window_type": "--window-type",
    "objective": "--objective",
    "min_trades_required": "--min-trades-required",
    "windows": "--windows",
    "parameter_grid": "--grid/--param",
}


def _parse_params(assignments: list[str]) -> dict[str, list[Any]]:
    from quant_strategy.yaml_reader import yaml_value

    grid: dict[str, list[Any]] = {}
    for text in assignments:
        name, sep, values = text.partition("=")
        if not sep or not name.strip() or not values.strip():
            raise fail(f"--param expects NAME=V1,V2,..., got {text!r}")
        field = f"--param {name.strip()}"
        grid[name.strip()] = [yaml_value(v, field) for v in values.split(",") if v.strip()]
    return grid


def _read_grid(path: Path) -> dict[str, list[Any]]:
    from quant_strategy.yaml_reader import read_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise fail(f"{path}: cannot read the grid file") from None
    data = read_yaml(text, str(path)).data
    if isinstance(data, dict) and "parameter_grid" in data:
        data = data["parameter_grid"]
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise fail(f"{path}: expected a mapping of parameter name to a list of values")
    return data


def _table(result: WalkForwardResult) -> Table:
    table = Table(title="Windows", title_justify="left")
    for column in ("#", "in-sample", "out-of-sample", "chosen", "IS score", "OOS score", "status"):
        table.add_column(column)
    for item in result.windows:
        w = item.window
        chosen = ", ".join(f"{k}={v}" for k, v in (item.chosen_params or {}).items()) or "-"
        table.add_row(
            str(w.number),
            f"{w.in_sample_start} .. {w.in_sample_end}",
            f"{w.out_of_sample_start} .. {w.out_of_sample_end}",
            chosen,
            "-" if item.in_sample_score is None else f"{item.in_sample_score:.2f}",
            "-" if item.out_of_sample_score is None else f"{item.out_of_sample_score:.2f}",
            item.status if not item.note else f"{item.status}: {item.note}",
        )
    return table


@user_errors
def walk_forward_command(
    config_path: Annotated[Path, typer.Argument(metavar="CONFIG", help="strategy YAML file")],
    grid: Annotated[
        Path | None, typer.Option(help="YAML/JSON file: parameter -> list of values")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option(help="grid values: NAME=V1,V2,... (repeatable)")
    ] = None,
    objective: Annotated[
        Objective | None, typer.Option(help="what the in-sample search maximises")
    ] = None,
    windows: Annotated[
        int | None, typer.Option(help="split the span into N out-of-sample windows")
    ] = None,
    in_sample_days: Annotated[
        int | None, typer.Option(help="in-sample length, calendar days")
    ] = None,
    out_of_sample_days: Annotated[
        int | None, typer.Option(help="out-of-sample length, calendar days")
    ] = None,
    step_days: Annotated[int | None, typer.Option(help="days between window starts")] = None,
    window_type: Annotated[
        WindowType | None, typer.Option(help="rolling or anchored in-sample windows")
    ] = None,
    min_trades_required: Annotated[
        int | None,
        typer.Option(
            *_MIN_TRADES,
            help="in-sample trades a combination needs (--min-trades: old name)",
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="processes for the grid (default: all cores)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="output folder (default reports/<id>-walk-forward)")
    ] = None,
    data: DataOption = None,
    start: StartOption = None,
    end: EndOption = None,
    initial_capital: InitialCapitalOption = DEFAULT_CAPITAL,
    commission_per_trade: CommissionPerTradeOption = DEFAULT_COMMISSION,
    commission_bps: CommissionBpsOption = DEFAULT_COMMISSION_BPS,
    slippage_bps: SlippageOption = DEFAULT_SLIPPAGE_BPS,
    fill_timing: FillTimingOption = FillTiming.CLOSE,
) -> None:
    """Walk-forward optimise CONFIG (its walk_forward: block, overridden by these flags)."""
    from quant_backtest.data_range import dates_explained
    from quant_backtest.walk_forward import WalkForwardEngine
    from quant_backtest.walk_forward_json import write_walk_forward_json
    from quant_backtest.walk_forward_report import write_walk_forward_report
    from quant_strategy import load_strategy_config

    config = load_strategy_config(config_path)
    flags = {
        "objective": objective,
        "windows": windows,
        "in_sample_days": in_sample_days,
        "out_of_sample_days": out_of_sample_days,
        "step_days": step_days,
        "window_type": window_type,
        "min_trades_required": min_trades_required,
    }
    wf = _walk_forward_config(config, config_path, grid, param, flags)
    bt = make_backtest_config(
        capital=initial_capital,
        commission=commission_per_trade,
        commission_bps=commission_bps,
        slippage_bps=slippage_bps,
        fill_timing=fill_timing,
        start=start,
        end=end,
        seed=config.seed,
        sizing=config.sizing,
    )
    source = open_data(data or config.data or "samples")
    console = Console()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                label = (
                    "in-sample grid (combinations)" if phase == "grid" else "out-of-sample windows"
                )
                tasks[phase] = bar.add_task(label, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        with dates_explained(config, source, bt, flag), loaded_models(config, per_window_ok=True):
            engine = WalkForwardEngine(source, bt, workers=workers)
            result = engine.run(config, wf, progress=report)
    folder = out or Path("reports") / f"{config.id}-walk-forward"
    html = write_walk_forward_report(result, folder / "walk_forward.html")
    js = write_walk_forward_json(result, folder / "walk_forward.json")
    _print_summary(console, result, html, js)


def _walk_forward_config(
    config: StrategyConfig,
    config_path: Path,
    grid: Path | None,
    param: list[str] | None,
    flags: dict[str, Any],
) -> WalkForwardConfig:
    """The config's walk_forward: block overridden by the grid and the flags that were given."""
    from quant_backtest.walk_forward import config_from_yaml_block
    from quant_strategy import resolve_class

    base = config_from_yaml_block(config)
    fields: dict[str, Any] = base.model_dump() if base else {}
    if grid is not None and param:
        raise fail("--grid and --param: give one or the other")
    if grid is not None:
        fields["parameter_grid"] = _read_grid(grid)
    elif param:
        fields["parameter_grid"] = _parse_params(param)
    fields.update({k: v for k, v in flags.items() if v is not None})
    from quant_models.predictor import trains_per_window

    if not fields.get("parameter_grid") and not trains_per_window(config):
        raise fail(
            f"{config_path}: no parameter grid; add walk_forward.parameter_grid or pass --param/--grid"
        )
    try:
        wf = WalkForwardConfig.model_validate(fields)
    except ValidationError as exc:
        typed = {**_WF_FLAGS, "min_trades_required": written(_MIN_TRADES)}
        raise fail(validation_message(exc, typed, "walk-forward options")) from None
    unknown = sorted(set(wf.parameter_grid) - set(resolve_class(config).params_model.model_fields))
    if unknown:
        raise ConfigError(
            f"unknown parameter(s) in the grid: {', '.join(unknown)}", field="--grid/--param"
        )
    return wf


def _print_summary(console: Console, result: WalkForwardResult, html: Path, js: Path) -> None:
    """The windows table, the out-of-sample figures, the overfitting statistics, the files."""
    console.print(_table(result))
    m = result.oos_metrics
    console.print(
        f"out-of-sample: total return {m.total_return:.2%}, Sharpe {m.sharpe:.2f}, "
        f"max drawdown {m.max_drawdown_pct:.2%}, {m.num_trades} trades; "
        f"efficiency {result.efficiency:.2f}"
    )
    if result.oos_dsr is not None:
        console.print(
            f"deflated Sharpe ratio {result.oos_dsr.dsr:.2%} over {result.oos_dsr.n_trials} trials"
        )
    if result.pbo is not None:
        console.print(f"probability of backtest overfitting {result.pbo.pbo:.2%}")
    console.print(
        f"{len(result.grid)} combinations x {len(result.windows)} windows in "
        f"{result.timings['total_s']:.1f} s ({'vectorised' if result.fast_path else 'event'} path, "
        f"{result.workers} workers)\nreport: {html}\nresult: {js}"
    )
