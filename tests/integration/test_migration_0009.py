"""Migration 0009: order status history, positions per strategy, processed event keys and the
reconciliation row, up, down and up again."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from quant_db.migrate import downgrade, upgrade
from tests.integration.test_migrations import query, tables

RUN = "00000000-0000-0000-0000-000000000001"
NEW_TABLES = {"order_events", "processed_events", "reconciliation"}


def _seed(url: str) -> None:
    query(
        url,
        "INSERT INTO strategies (id, class_path, config, status, mode, created_at, updated_at) "
        "VALUES ('s', 'm:C', '{}', 'active', 'PAPER', now(), now()) RETURNING id",
    )
    query(
        url,
        "INSERT INTO runs (id, strategy_id, type, status, progress, processed, total, message, "
        "config, backtest_config, repro, metrics, cancel_requested, is_reference) "
        f"VALUES ('{RUN}', 's', 'paper', 'running', 0, 0, 0, '', '{{}}', '{{}}', '{{}}', "
        "'{}', false, false) RETURNING id",
    )


def _position(url: str, strategy: str, quantity: int) -> None:
    query(
        url,
        "INSERT INTO positions (run_id, strategy_id, symbol, quantity, avg_price, realized_pnl) "
        f"VALUES ('{RUN}', '{strategy}', 'AAPL', {quantity}, 100, 0) RETURNING id",
    )


def test_0009_keys_positions_by_strategy_and_adds_the_oms_tables(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, "0008")
    _seed(url)
    _position(url, "alpha", 10)
    upgrade(url, "0009")
    assert tables(url) >= NEW_TABLES
    assert query(url, "SELECT strategy_id, commission FROM positions") == [("alpha", 0)]
    _position(url, "beta", -4)  # a second strategy in the same symbol has its own row
    with pytest.raises(IntegrityError, match="uq_positions_run_id_strategy_id_symbol"):
        _position(url, "beta", 1)
    with pytest.raises(IntegrityError, match="ck_reconciliation_state"):
        query(
            url,
            "INSERT INTO reconciliation (account, state, checked_at, diff) "
            "VALUES ('a', 'dirty', now(), '{}') RETURNING account",
        )
    query(
        url,
        "INSERT INTO processed_events (consumer_group, idempotency_key) VALUES ('g', 'k') "
        "RETURNING idempotency_key",
    )
    with pytest.raises(IntegrityError, match="pk_processed_events"):
        query(
            url,
            "INSERT INTO processed_events (consumer_group, idempotency_key) VALUES ('g', 'k') "
            "RETURNING idempotency_key",
        )

    with pytest.raises(DBAPIError, match="one symbol under two strategies"):
        downgrade(url, "0008")
    assert tables(url) >= NEW_TABLES  # the refused downgrade changed nothing
    query(url, "DELETE FROM positions WHERE strategy_id = 'beta' RETURNING id")
    downgrade(url, "0008")
    assert not NEW_TABLES & tables(url)
    with pytest.raises(IntegrityError, match="uq_positions_run_id_symbol"):
        _position(url, "beta", 1)  # one row per run and symbol again
    upgrade(url)
    assert tables(url) >= NEW_TABLES
