"""The data service loads real bars with COPY, idempotently, and quarantines bad rows with reasons."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import numpy as np
import pytest

from quant_backtest import run
from quant_backtest.db_source import DatabaseSource
from quant_db.urls import asyncpg_dsn
from quant_domain import DataNotFoundError, Timeframe
from quant_engine import BacktestConfig
from quant_ingestion import ingest
from quant_marketdata import FolderSource, SampleSource
from quant_strategy import load_strategy_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "strategies"


def fetch(url: str, sql: str) -> list[asyncpg.Record]:
    async def go() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            return list(await connection.fetch(sql))
        finally:
            await connection.close()

    return asyncio.run(go())


def test_ingesting_samples_twice_changes_nothing_the_second_time(database_url: str) -> None:
    first = ingest(SampleSource(), ["SP500", "GOOG"], database_url)
    assert (first.received, first.inserted, first.unchanged, first.quarantined) == (
        7179,
        7179,
        0,
        0,
    )
    second = ingest(SampleSource(), ["SP500", "GOOG"], database_url)
    assert (second.received, second.inserted, second.updated, second.unchanged) == (
        7179,
        0,
        0,
        7179,
    )
    runs = fetch(
        database_url,
        "SELECT status, bars_received, bars_inserted, bars_unchanged FROM ingestion_runs ORDER BY id",
    )
    assert [tuple(r) for r in runs] == [("completed", 7179, 7179, 0), ("completed", 7179, 0, 7179)]
    stored = fetch(
        database_url, "SELECT close FROM price_bars WHERE symbol = 'SP500' ORDER BY ts LIMIT 1"
    )
    assert str(stored[0]["close"]) == "1228.099976"  # exact NUMERIC, not a float approximation


def test_changed_bars_are_updated_and_counted(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "ABC.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-02,10,11,9,10,5\n2024-01-03,10,12,9,11,5\n"
    )
    ingest(FolderSource(tmp_path), ["ABC"], database_url)
    (tmp_path / "ABC.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-02,10,11,9,10,5\n2024-01-03,10,12,9,11.5,5\n"
    )
    again = ingest(FolderSource(tmp_path), ["ABC"], database_url)
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)


def test_bad_rows_are_quarantined_with_reason_and_the_rest_loaded(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "BAD.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-02,10,11,9,10,5\n2024-01-03,10,9,11,10,5\n"
        "2024-01-04,-1,11,9,10,5\n2024-01-05,10,11,9,10,5\n"
    )
    summary = ingest(FolderSource(tmp_path), ["BAD"], database_url)
    assert (summary.inserted, summary.quarantined) == (2, 2)
    rows = fetch(database_url, "SELECT symbol, ts, reason FROM quarantined_bars ORDER BY ts")
    assert [r["ts"].day for r in rows] == [3, 4]
    assert "BAD.csv:3 high_below_low" in rows[0]["reason"]
    assert "BAD.csv:4 non_positive_price" in rows[1]["reason"]
    run_row = fetch(database_url, "SELECT bars_quarantined, problems FROM ingestion_runs")[0]
    assert run_row["bars_quarantined"] == 2


def test_date_range_limits_what_is_loaded(database_url: str) -> None:
    summary = ingest(
        SampleSource(),
        ["SP500"],
        database_url,
        start=datetime(2010, 1, 1, tzinfo=UTC),
        end=datetime(2010, 12, 31, tzinfo=UTC),
    )
    assert summary.inserted == 252


def test_backtest_on_database_bars_equals_backtest_on_files(database_url: str) -> None:
    ingest(SampleSource(), ["SP500"], database_url)
    source = DatabaseSource(database_url)
    assert source.symbols() == ["SP500"]
    files = SampleSource().get_bars("SP500")
    stored = source.get_bars("SP500")
    assert stored.index.equals(files.index)
    np.testing.assert_array_equal(stored.to_numpy(), files.to_numpy())
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml")
    from_db = run(config, source, BacktestConfig())
    from_files = run(config, SampleSource(), BacktestConfig())
    np.testing.assert_array_equal(from_db.equity.to_numpy(), from_files.equity.to_numpy())
    assert from_db.metadata.data_fingerprint == from_files.metadata.data_fingerprint


def test_database_weekly_bars_from_midweek_match_the_files(database_url: str) -> None:
    # from Wednesday 2010-01-06 the first whole week starts Monday 2010-01-11: the partial week
    # labelled 2010-01-04 lies before start and is not returned, exactly as the file source does
    ingest(SampleSource(), ["SP500"], database_url)
    start, end = datetime(2010, 1, 6, tzinfo=UTC), datetime(2010, 3, 31, tzinfo=UTC)
    weekly = Timeframe.parse("1w")
    files = SampleSource().get_bars("SP500", start, end, weekly)
    with DatabaseSource(database_url) as source:
        stored = source.get_bars("SP500", start, end, weekly)
        assert stored.index[0] == datetime(2010, 1, 11, tzinfo=UTC)
        assert stored.index.equals(files.index)
        np.testing.assert_array_equal(stored.to_numpy(), files.to_numpy())
        # naive bounds are refused, as the file sources refuse them
        with pytest.raises(ValueError, match="no timezone"):
            source.get_bars("SP500", datetime(2010, 1, 6), end, weekly)


def test_database_source_names_missing_symbols(database_url: str) -> None:
    with pytest.raises(DataNotFoundError, match="run `quant data ingest` first"):
        DatabaseSource(database_url).get_bars("NOPE")


def test_reading_many_symbols_returns_exactly_what_was_ingested(database_url: str) -> None:
    from quant_marketdata import SyntheticSource  # noqa: PLC0415

    # 12 symbols: the read splits them over two connections; the CSV-scale prices are stored
    # exactly, synthetic full-precision floats to PostgreSQL's 15 significant digits
    source = SyntheticSource(seed=9, n_symbols=12, n_bars=300)
    ingest(source, source.symbols(), database_url)
    with DatabaseSource(database_url) as reader:
        wanted = list(reversed(source.symbols()))
        frames = reader.get_many(wanted)
    assert list(frames) == wanted
    for symbol in wanted:
        original = source.get_bars(symbol)
        assert frames[symbol].index.equals(original.index)
        np.testing.assert_allclose(frames[symbol].to_numpy(), original.to_numpy(), rtol=1e-14)
