"""The Alembic history runs up and down cleanly on an empty database, on a real server."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from quant_db.migrate import downgrade, upgrade
from quant_db.schema import Base


async def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            return [tuple(row) for row in (await connection.execute(text(sql))).all()]
    finally:
        await engine.dispose()


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    return asyncio.run(_query(url, sql))


def tables(url: str) -> set[str]:
    rows = query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {str(r[0]) for r in rows}


def test_migrations_up_down_up_on_an_empty_database(empty_database_url: str) -> None:
    assert tables(empty_database_url) == set()
    upgrade(empty_database_url)
    queue = {"pgqueuer", "pgqueuer_log", "pgqueuer_schedules", "pgqueuer_statistics"}
    assert tables(empty_database_url) == set(Base.metadata.tables) | {"alembic_version"} | queue
    assert query(empty_database_url, "SELECT mode, engaged FROM kill_switch") == [("active", False)]
    downgrade(empty_database_url, "base")
    assert tables(empty_database_url) == {"alembic_version"}
    upgrade(empty_database_url)
    assert "price_bars" in tables(empty_database_url)


def test_time_series_tables_are_partitioned_or_brin_indexed(database_url: str) -> None:
    timescale = query(database_url, "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
    if timescale:
        hypertables = query(
            database_url, "SELECT hypertable_name FROM timescaledb_information.hypertables"
        )
        assert {r[0] for r in hypertables} == {"price_bars", "equity_points", "metric_points"}
    else:
        brin = query(
            database_url,
            "SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%USING brin%'",
        )
        assert {r[0] for r in brin} == {"price_bars", "equity_points", "metric_points"}


def test_kill_switch_allows_only_one_row(database_url: str) -> None:
    import pytest  # noqa: PLC0415
    from sqlalchemy.exc import IntegrityError  # noqa: PLC0415

    with pytest.raises(IntegrityError):
        query(database_url, "INSERT INTO kill_switch (id, mode, reason) VALUES (2, 'active', 'x')")


def test_0004_moves_bar_prices_to_float8_with_blocks_and_back(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url, "0003")
    query(
        url,
        "INSERT INTO price_bars (symbol, timeframe, ts, open, high, low, close, volume, source) "
        "VALUES ('X', '1d', '2023-12-29T00:00:00Z', 1228.099976, 1230.5, 1220.25, 1229.75, 3e9, 's'),"
        " ('X', '1d', '2024-01-02T00:00:00Z', 0.000123, 0.000125, 0.000121, 0.000124, 7, 's') "
        "RETURNING symbol",
    )
    upgrade(url, "0004")
    assert query(url, "SELECT open::text, close::text FROM price_bars ORDER BY ts") == [
        ("1228.099976", "1229.75"),
        ("0.000123", "0.000124"),
    ]
    assert query(url, "SELECT year, bars, length(data) FROM price_blocks ORDER BY year") == [
        (2023, 1, 48),
        (2024, 1, 48),
    ]
    downgrade(url, "0003")
    assert "price_blocks" not in tables(url)
    assert query(url, "SELECT open::text, close_f FROM price_bars ORDER BY ts") == [
        ("1228.099976", 1229.75),
        ("0.000123", 0.000124),
    ]


def test_0005_adds_refresh_tokens_that_go_with_their_user_and_drops_them_on_downgrade(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, "0005")
    indexes = query(
        url, "SELECT indexname FROM pg_indexes WHERE tablename = 'refresh_tokens' ORDER BY 1"
    )
    assert [r[0] for r in indexes] == [
        "ix_refresh_tokens_family_id",
        "ix_refresh_tokens_user_id_expires_at",
        "pk_refresh_tokens",
    ]
    query(
        url,
        "INSERT INTO users (id, username, password_hash, role, is_active) "
        "VALUES (7, 'ana', 'x', 'viewer', true) RETURNING id",
    )
    query(
        url,
        "INSERT INTO refresh_tokens (jti, user_id, family_id, signed_in_at, issued_at, expires_at)"
        " VALUES (gen_random_uuid(), 7, gen_random_uuid(), now(), now(), now() + interval '7 days')"
        " RETURNING jti",
    )
    assert query(url, "SELECT count(*) FROM refresh_tokens") == [(1,)]
    query(url, "DELETE FROM users WHERE id = 7 RETURNING id")
    assert query(url, "SELECT count(*) FROM refresh_tokens") == [(0,)]
    downgrade(url, "0004")
    assert "refresh_tokens" not in tables(url)
    assert "users" in tables(url)
    upgrade(url)
    assert "refresh_tokens" in tables(url)


def test_0007_adds_run_labels_one_reference_per_strategy_and_sortable_key_metrics(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, "0007")
    query(
        url,
        "INSERT INTO strategies (id, class_path, config, status, mode, created_at, updated_at) "
        "VALUES ('s', 'm:C', '{}', 'active', 'BACKTEST', now(), now()) RETURNING id",
    )
    insert = (
        "INSERT INTO runs (id, strategy_id, type, status, progress, processed, total, message, "
        "config, backtest_config, repro, metrics, cancel_requested, is_reference) "
        "VALUES (gen_random_uuid(), 's', 'backtest', '{status}', 0, 0, 0, '', '{{}}', '{{}}', "
        "'{{}}', '{metrics}', false, {ref}) "
        "RETURNING key_sharpe, key_num_trades, key_total_return, label, params_overrides"
    )
    done = '{"sharpe": 1.25, "num_trades": 7, "total_return": "0.1"}'
    assert query(url, insert.format(status="completed", metrics=done, ref="true")) == [
        (1.25, 7.0, None, None, None)  # a figure stored as a string is not a number
    ]
    # not completed: no sortable figure, whatever the blob holds
    assert query(url, insert.format(status="running", metrics=done, ref="false"))[0][:2] == (
        None,
        None,
    )
    # a JSON number beyond float8 gives null instead of failing the worker's write
    huge = '{"sharpe": 1e400}'
    assert query(url, insert.format(status="completed", metrics=huge, ref="false"))[0][0] is None
    import pytest  # noqa: PLC0415
    from sqlalchemy.exc import IntegrityError  # noqa: PLC0415

    with pytest.raises(IntegrityError):  # a second reference run of the same strategy
        query(url, insert.format(status="completed", metrics=done, ref="true"))
    downgrade(url, "0005")
    columns = query(
        url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'runs'"
    )
    assert not {"label", "is_reference", "params_overrides", "key_sharpe"} & {c[0] for c in columns}
    upgrade(url)
