"""`quant check-lookahead`: re-run a strategy with the future scrambled; exit 1 if its past moves.

Exit codes: 0 nothing found, 1 look-ahead found, 2 a user mistake, 3 no look-ahead found but a
result too good to be true (the figure is printed; `--sharpe-limit` moves the Sharpe bar).
"""

# ruff: noqa: PLC0415 - the checker and strategies load when the command runs, not for --help
from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console

from quant_cli.data_options import DataOption, EndOption, StartOption
from quant_cli.errors import user_errors
from quant_cli.options import FillTimingOption, flag, make_backtest_config
from quant_cli.progress import progress_bar
from quant_cli.sources import open_data
from quant_domain import ConfigError
from quant_engine import FillTiming

if TYPE_CHECKING:
    from quant_backtest.lookahead import FramesHook, LookaheadReport

BIAS_FOUND = 1
SUSPICIOUS = 3
NOTHING_FOUND_OUTSIDE_UNCHECKED = (
    "no look-ahead found in what the engine feeds the strategy; data the strategy reads by "
    "itself was not checked (pass --prepare MODULE:FUNCTION to rebuild it from each run's bars)"
)
NOTHING_FOUND_WITH_PREPARE = (
    "no look-ahead found in what the engine feeds the strategy, nor in the data --prepare "
    "rebuilt from it; anything else the strategy reads by itself was not checked"
)


def load_hook(spec: str) -> FramesHook:
    """The function a "package.module:function" spec names (for --prepare)."""
    module_name, sep, name = spec.partition(":")
    if not sep or not module_name or not name:
        raise ConfigError(f"expected MODULE:FUNCTION, got {spec!r}", field="--prepare")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"cannot import module {module_name!r} ({exc.msg})", field="--prepare"
        ) from None
    hook = getattr(module, name, None)
    if not callable(hook):
        raise ConfigError(f"module {module_name!r} has no function {name!r}", field="--prepare")
    return cast("FramesHook", hook)


def print_report(report: LookaheadReport, strategy_id: str, console: Console) -> None:
    for finding in report.biased:
        console.print(f"[bold red]look-ahead bias[/bold red] {finding.detail}", soft_wrap=True)
    console.print(
        f"{strategy_id}: {len(report.checked_points)} checks run, "
        f"{report.points_with_orders} decision points with orders, "
        f"{len(report.biased)} biased points found "
        f"(perturbed runs changed later orders at {report.later_changed} points; "
        f"{report.reference_orders} orders in the reference run)",
        soft_wrap=True,
    )
    result = report.result
    win_rate = "no closed trades" if result.win_rate is None else f"{result.win_rate:.2%}"
    console.print(
        f"reference run: Sharpe {result.sharpe:.2f} on {result.bars} bars "
        f"(suspicious above {result.sharpe_limit:.2f}), win rate {win_rate} over "
        f"{result.closed_trades} closed trades" + (f"; {result.note}" if result.note else ""),
        soft_wrap=True,
    )
    if report.clean:
        verdict = (
            NOTHING_FOUND_WITH_PREPARE
            if report.outside_data_checked
            else NOTHING_FOUND_OUTSIDE_UNCHECKED
        )
        console.print(verdict, soft_wrap=True)
    if result.suspicious:
        console.print(
            f"[bold yellow]suspicious[/bold yellow]: {'; '.join(result.reasons)}. Real "
            "strategies almost never get there: look for data the strategy reads by itself "
            "(files, downloads, globals) and rebuild it with --prepare, or for errors in the data",
            soft_wrap=True,
        )


@user_errors
def check_lookahead_command(
    config_path: Annotated[Path, typer.Argument(metavar="CONFIG", help="strategy YAML file")],
    data: DataOption = None,
    start: StartOption = None,
    end: EndOption = None,
    checks: Annotated[
        int, typer.Option(min=1, help="decision points to re-run the strategy at")
    ] = 20,
    seed: Annotated[
        int, typer.Option(min=0, help="picks the decision points and the perturbations")
    ] = 0,
    fill_timing: FillTimingOption = FillTiming.CLOSE,
    prepare: Annotated[
        str | None,
        typer.Option(
            metavar="MODULE:FUNCTION",
            help="called with each run's bars before its strategy starts, for strategies "
            "that read data outside the engine",
        ),
    ] = None,
    sharpe_limit: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="flag the result as suspicious above this Sharpe ratio (default: 4 on daily "
            "bars, 6 on hourly, 8 on shorter ones)",
        ),
    ] = None,
) -> None:
    """Check CONFIG for look-ahead bias: exit 1 if a decision used later bars, 3 if suspicious."""
    from quant_backtest.data_range import dates_explained
    from quant_backtest.lookahead import check_lookahead
    from quant_strategy import load_strategy_config

    console = Console()
    config = load_strategy_config(config_path)
    hook = load_hook(prepare) if prepare else None
    # the config's own sizing, as `quant backtest` uses it: check the run the user will make
    bt = make_backtest_config(
        fill_timing=fill_timing, start=start, end=end, seed=config.seed, sizing=config.sizing
    )
    source = open_data(data or config.data or "samples")
    with (
        dates_explained(config, source, bt, flag),
        progress_bar(console, f"look-ahead {config.id}", "checks") as report_progress,
    ):
        report = check_lookahead(
            config,
            source,
            bt,
            checks=checks,
            seed=seed,
            progress=report_progress,
            prepare=hook,
            sharpe_limit=sharpe_limit,
        )
    print_report(report, config.id, console)
    if not report.clean:
        raise typer.Exit(BIAS_FOUND)
    if report.result.suspicious:
        raise typer.Exit(SUSPICIOUS)
