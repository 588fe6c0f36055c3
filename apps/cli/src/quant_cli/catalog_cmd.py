"""`quant strategies list`: the strategy configs in the folders, and whether each one loads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from quant_cli.errors import fail
from quant_domain import ConfigError

CONFIGS_DIR = Path("configs/strategies")

strategies_app = typer.Typer(help="Strategy configs and classes.", no_args_is_help=True)


@strategies_app.command("list")
def list_strategies(
    folders: Annotated[
        list[Path] | None,
        typer.Option(
            "--dir",
            help="folder of strategy YAML files (repeatable; default: configs/strategies and "
            "your strategies folder, QUANT_STRATEGIES_PATH or ./strategies)",
        ),
    ] = None,
) -> None:
    """List every strategy config with its class, universe and status."""
    # strategy classes (and pandas behind them) load only to list them, not for --help
    from quant_strategy import check_params, load_strategy_config  # noqa: PLC0415
    from quant_strategy.strategy_folder import config_files, strategies_path  # noqa: PLC0415

    if folders:
        for folder in folders:
            if not folder.is_dir():
                raise fail(f"{folder}: no such folder of strategy configs")
    else:
        folders = [CONFIGS_DIR, *([strategies_path()] if strategies_path().is_dir() else [])]
    title = "Strategies in " + ", ".join(str(folder) for folder in folders)
    table = Table(title=title, title_justify="left")
    for column in ("id", "class", "universe", "timeframe", "description / problem"):
        table.add_column(column)
    files = [path for folder in folders for path in config_files(folder)]
    broken = 0
    for path in files:
        try:
            config = load_strategy_config(path)
            class_name = check_params(config).__name__
        except ConfigError as exc:
            broken += 1
            table.add_row(path.stem, "-", "-", "-", f"[red]{exc}[/red]")
            continue
        table.add_row(
            config.id, class_name, ", ".join(config.universe), config.timeframe, config.description
        )
    console = Console()
    console.print(table)
    console.print(f"{len(files)} configs, {broken} with problems")
    if broken:
        raise typer.Exit(1)
