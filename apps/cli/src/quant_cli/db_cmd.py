"""`quant db`: migrate the database the platform uses (DATABASE_URL or the embedded server)."""

# ruff: noqa: PLC0415 - SQLAlchemy and Alembic load when a command runs, not for --help
from __future__ import annotations

from typing import Annotated

import typer

from quant_cli.errors import user_errors
from quant_db.embedded import database_url
from quant_db.settings import get_settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
@user_errors
def upgrade_command(
    revision: Annotated[str, typer.Option(help="target revision")] = "head",
) -> None:
    """Apply the Alembic history up to --revision (default: the latest)."""
    from quant_db.migrate import upgrade
    from quant_db.urls import redacted

    url = database_url(get_settings())
    upgrade(url, revision)
    typer.echo(f"database at {redacted(url)} is at revision {revision}")


@db_app.command("downgrade")
@user_errors
def downgrade_command(
    revision: Annotated[str, typer.Option(help="target revision; base empties the schema")] = "-1",
) -> None:
    """Undo migrations down to --revision (default: one step)."""
    from quant_db.migrate import downgrade
    from quant_db.urls import redacted

    url = database_url(get_settings())
    downgrade(url, revision)
    typer.echo(f"database at {redacted(url)} downgraded to {revision}")


@db_app.command("url")
@user_errors
def url_command() -> None:
    """Print the database URL in use (password hidden), starting the embedded server if needed."""
    from quant_db.urls import redacted

    typer.echo(redacted(database_url(get_settings())))
