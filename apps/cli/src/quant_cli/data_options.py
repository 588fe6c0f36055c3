"""Options naming the bars a command reads: the data source and the first and last day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from quant_cli.errors import fail

DataOption = Annotated[
    str | None, typer.Option(help="data source: samples, synthetic[:k=v,...], db or a folder")
]
StartOption = Annotated[
    datetime | None, typer.Option(formats=["%Y-%m-%d"], help="first day (YYYY-MM-DD)")
]
EndOption = Annotated[
    datetime | None, typer.Option(formats=["%Y-%m-%d"], help="last day (YYYY-MM-DD)")
]


def replay_range(text: str) -> tuple[date, date]:
    """`--replay FROM..TO` as two days (exit 2 naming the option on anything else)."""
    try:
        first, last = (date.fromisoformat(part.strip()) for part in text.split(".."))
    except ValueError:
        raise fail(
            f"--replay: {text!r} is not FROM..TO (dates like 2014-01-01..2018-12-31)"
        ) from None
    if first > last:
        raise fail(f"--replay: {first} is after {last}")
    return first, last
