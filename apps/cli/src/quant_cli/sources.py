"""Data-source specs the commands accept: the market-data ones plus `db` (PostgreSQL)."""

# ruff: noqa: PLC0415 - pandas and the database drivers load when a command first reads bars
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quant_marketdata import DataSource

DATABASE_SPECS = ("db", "database")


def open_data(spec: str) -> DataSource:
    """`db` reads the price_bars table (DATABASE_URL or the embedded server); else open_source."""
    if spec in DATABASE_SPECS:
        from quant_backtest.db_source import DatabaseSource
        from quant_db.embedded import database_url
        from quant_db.settings import get_settings

        return DatabaseSource(database_url(get_settings()))
    from quant_marketdata import open_source

    return open_source(spec)
