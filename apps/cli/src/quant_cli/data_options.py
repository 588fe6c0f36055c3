"""Options naming the bars a command reads: the data source and the first and last day."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

DataOption = Annotated[
    str | None, typer.Option(help="data source: samples, synthetic[:k=v,...], db or a folder")
]
StartOption = Annotated[
    datetime | None, typer.Option(formats=["%Y-%m-%d"], help="first day (YYYY-MM-DD)")
]
EndOption = Annotated[
    datetime | None, typer.Option(formats=["%Y-%m-%d"], help="last day (YYYY-MM-DD)")
]
