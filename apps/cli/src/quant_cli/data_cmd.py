"""`quant data validate`: data-quality checks over a source, reporting what is wrong and where."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from quant_cli.errors import user_errors
from quant_marketdata import open_source, validate_source

data_app = typer.Typer(help="Market data.", no_args_is_help=True)


@data_app.command("validate")
@user_errors
def validate(
    source: Annotated[
        str, typer.Argument(metavar="SOURCE", help="samples, synthetic[:k=v,...] or a folder")
    ],
    symbols: Annotated[
        list[str] | None, typer.Option("--symbol", help="only these symbols")
    ] = None,
    limit: Annotated[int, typer.Option(help="problems shown per symbol")] = 20,
) -> None:
    """Check every symbol's bars; exit 1 when any problem is found."""
    data = open_source(source)
    report = validate_source(data, symbols)
    Console(highlight=False).print(report.render(limit=limit))
    if not report.ok:
        raise typer.Exit(1)
