"""Terminal rendering of metrics, with the labels and formats the HTML report uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from quant_engine.metrics import Metrics


def metrics_table(title: str, columns: dict[str, Metrics]) -> Table:
    """One row per metric, one column per run."""
    from quant_backtest.metric_labels import metric_rows  # noqa: PLC0415 - pandas, only once run

    table = Table(title=title, title_justify="left")
    table.add_column("Metric")
    for name in columns:
        table.add_column(name, justify="right")
    rows = [metric_rows(m) for m in columns.values()]
    for position, (label, _) in enumerate(rows[0]):
        table.add_row(label, *(r[position][1] for r in rows))
    return table
