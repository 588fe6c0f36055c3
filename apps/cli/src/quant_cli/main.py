"""The `quant` command: one entry point for research, data and (later) the platform's services."""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from quant_cli.api_cmd import api_command, users_app
from quant_cli.backtest_cmd import backtest
from quant_cli.catalog_cmd import strategies_app
from quant_cli.data_cmd import data_app
from quant_cli.db_cmd import db_app
from quant_cli.lookahead_cmd import check_lookahead_command
from quant_cli.up_cmd import up_command
from quant_cli.walk_forward_cmd import walk_forward_command
from quant_cli.worker_cmd import worker_command

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
app.add_typer(db_app, name="db")
app.command("check-lookahead")(check_lookahead_command)
app.command("walk-forward")(walk_forward_command)
app.command("worker")(worker_command)
app.command("api")(api_command)
app.command("up")(up_command)
app.add_typer(users_app, name="users")


def main() -> None:
    """Run the CLI; usage mistakes print one `error:` line and exit 2 (no help box, no traceback)."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except (
        TyperException
    ) as exc:  # Typer's vendored click usage errors (bad option, missing argument)
        message = exc.format_message().replace("Value error, ", "")
        if not message:  # a bare command group: its help was printed
            sys.exit(0)
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
