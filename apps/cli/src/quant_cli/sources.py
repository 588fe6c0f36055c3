"""Data-source specs the commands accept: the market-data ones plus `db` (PostgreSQL)."""

from __future__ import annotations

from quant_backtest.db_source import DatabaseSource
from quant_db.embedded import database_url
from quant_db.settings import get_settings
from quant_marketdata import DataSource, open_source

DATABASE_SPECS = ("db", "database")


def open_data(spec: str) -> DataSource:
    """`db` reads the price_bars table (DATABASE_URL or the embedded server); else open_source."""
    if spec in DATABASE_SPECS:
        return DatabaseSource(database_url(get_settings()))
    return open_source(spec)
