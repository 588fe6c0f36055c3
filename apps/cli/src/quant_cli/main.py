"""The `quant` command: one entry point for research, data and (later) the platform's services."""

from __future__ import annotations

import typer

from quant_cli.backtest_cmd import backtest
from quant_cli.catalog_cmd import strategies_app
from quant_cli.data_cmd import data_app

app = typer.Typer(
    name="quant",
    help="Quant platform: backtest strategies, inspect data, run the services.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("backtest")(backtest)
app.add_typer(strategies_app, name="strategies")
app.add_typer(data_app, name="data")


def main() -> None:
    app()
