"""The data service loads real bars with COPY, idempotently, and quarantines bad rows with reasons."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
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
    assert repr(stored[0]["close"]) == "1228.099976"  # float8 keeps the quoted decimal (ADR 0012)


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

    # prices quoted to 4 decimals, as a venue quotes them: float8 storage returns them exactly
    source = SyntheticSource(seed=9, n_symbols=12, n_bars=300, decimals=4)
    ingest(source, source.symbols(), database_url)
    with DatabaseSource(database_url) as reader:
        wanted = list(reversed(source.symbols()))
        frames = reader.get_many(wanted)
    assert list(frames) == wanted
    for symbol in wanted:
        original = source.get_bars(symbol)
        assert frames[symbol].index.equals(original.index)
        np.testing.assert_array_equal(frames[symbol].to_numpy(), original.to_numpy())


def test_price_with_more_than_15_significant_digits_is_quarantined_with_reason(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "LONG.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-02,10,11,9,10,5\n"
        "2024-01-03,10,11,9,10.1234567890123456,5\n2024-01-04,10.25,11,9,10.5,5\n"
    )
    summary = ingest(FolderSource(tmp_path), ["LONG"], database_url)
    assert (summary.inserted, summary.quarantined) == (2, 1)
    rows = fetch(database_url, "SELECT ts, reason FROM quarantined_bars")
    assert [r["ts"].day for r in rows] == [3]
    assert "LONG.csv:3 too_many_digits: close 10.123456789012346" in rows[0]["reason"]
    assert "more than 15 significant digits" in rows[0]["reason"]
    stored = fetch(database_url, "SELECT ts FROM price_bars ORDER BY ts")
    assert [r["ts"].day for r in stored] == [2, 4]


def test_overlapping_and_corrected_loads_keep_the_year_blocks_equal_to_the_bars(
    database_url: str, tmp_path: Path
) -> None:
    # 2010 alone first (new: COPY straight in), then everything (overlaps 2010: merged), then
    # a corrected close in 2012: each read must match the files and price_bars
    ingest(
        SampleSource(),
        ["SP500"],
        database_url,
        start=datetime(2010, 1, 1, tzinfo=UTC),
        end=datetime(2010, 12, 31, tzinfo=UTC),
    )
    whole = ingest(SampleSource(), ["SP500"], database_url)
    assert (whole.inserted, whole.updated, whole.unchanged) == (whole.received - 252, 0, 252)
    files = SampleSource().get_bars("SP500")
    with DatabaseSource(database_url) as source:
        np.testing.assert_array_equal(source.get_bars("SP500").to_numpy(), files.to_numpy())
    counts = fetch(
        database_url,
        "SELECT sum(bars) AS blocks, (SELECT count(*) FROM price_bars) AS rows FROM price_blocks",
    )[0]
    assert counts["blocks"] == counts["rows"] == whole.received

    (tmp_path / "ABC.csv").write_text(
        "date,open,high,low,close,volume\n2023-12-28,10,11,9,10,5\n2023-12-29,10,11,9,10,5\n"
        "2024-01-02,10,11,9,10,5\n"
    )
    ingest(FolderSource(tmp_path), ["ABC"], database_url)
    (tmp_path / "ABC.csv").write_text(
        "date,open,high,low,close,volume\n2023-12-28,10,11,9,10,5\n2023-12-29,10,11,9,10,5\n"
        "2024-01-02,10,11,9,10.75,5\n2024-01-03,10,12,9,11,5\n"
    )
    again = ingest(FolderSource(tmp_path), ["ABC"], database_url)
    assert (again.inserted, again.updated, again.unchanged) == (1, 1, 2)
    with DatabaseSource(database_url) as source:
        frame = source.get_bars("ABC")
        assert frame["close"].tolist() == [10.0, 10.0, 10.75, 11.0]
        year_2024 = source.get_bars("ABC", start=datetime(2024, 1, 3, tzinfo=UTC))
        assert year_2024["close"].tolist() == [11.0]


def test_bars_stored_by_a_concurrent_load_fall_back_to_the_merge(
    database_url: str, tmp_path: Path
) -> None:
    # a row with no block yet is what a concurrent ingestion leaves between our overlap check
    # and our COPY: the straight COPY fails on the key and the batch is merged instead
    fetch(
        database_url,
        "INSERT INTO price_bars (symbol, timeframe, ts, open, high, low, close, volume, source) "
        "VALUES ('ABC', '1d', '2024-01-02T00:00:00Z', 10, 11, 9, 10, 5, 'other')",
    )
    (tmp_path / "ABC.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-02,10,11,9,10,5\n2024-01-03,10,12,9,11,5\n"
    )
    summary = ingest(FolderSource(tmp_path), ["ABC"], database_url)
    assert (summary.inserted, summary.updated, summary.unchanged) == (1, 0, 1)
    with DatabaseSource(database_url) as source:
        assert source.get_bars("ABC")["close"].tolist() == [10.0, 11.0]


def test_orm_reads_bar_prices_as_the_decimals_ingested(database_url: str) -> None:
    from sqlalchemy import select  # noqa: PLC0415
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: PLC0415

    from quant_db.schema import PriceBar  # noqa: PLC0415

    ingest(SampleSource(), ["SP500"], database_url)

    async def first_bar() -> PriceBar:
        engine = create_async_engine(database_url)
        try:
            async with AsyncSession(engine) as session:
                query = select(PriceBar).where(PriceBar.symbol == "SP500").order_by(PriceBar.ts)
                return (await session.scalars(query.limit(1))).one()
        finally:
            await engine.dispose()

    bar = asyncio.run(first_bar())
    assert bar.close == Decimal("1228.099976")
    assert isinstance(bar.volume, Decimal)
