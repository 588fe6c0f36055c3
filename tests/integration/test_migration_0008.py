"""Migration 0008: kill-switch modes (engaged derived), order lifecycle columns, fills -> orders."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from quant_db.migrate import downgrade, upgrade
from tests.integration.test_migrations import query

RUN = "00000000-0000-0000-0000-0000000000{}"


def _run(url: str, suffix: str) -> str:
    run_id = RUN.format(suffix)
    query(
        url,
        "INSERT INTO runs (id, strategy_id, type, status, progress, processed, total, message, "
        "config, backtest_config, repro, metrics, cancel_requested, is_reference) "
        f"VALUES ('{run_id}', 's', 'backtest', 'completed', 1, 0, 0, '', '{{}}', '{{}}', '{{}}', "
        "'{}', false, false) RETURNING id",
    )
    return run_id


def _order(url: str, run_id: str, client_order_id: str, closed: str | None) -> None:
    closed_at = "NULL" if closed is None else f"'{closed}'"
    query(
        url,
        "INSERT INTO orders (run_id, strategy_id, client_order_id, symbol, side, type, "
        "time_in_force, quantity, status, submitted_at, closed_at, filled_quantity, reason) "
        f"VALUES ('{run_id}', 's', '{client_order_id}', 'X', 'buy', 'market', 'day', 10, "
        f"'filled', '2024-01-02T15:00:00Z', {closed_at}, 10, '') RETURNING id",
    )


def _fill(url: str, run_id: str, fill_id: str, client_order_id: str) -> None:
    query(
        url,
        "INSERT INTO fills (run_id, fill_id, client_order_id, symbol, side, quantity, price, "
        f"commission, slippage, ts) VALUES ('{run_id}', '{fill_id}', '{client_order_id}', 'X', "
        "'buy', 10, 100, 1, 0, '2024-01-03T14:30:00Z') RETURNING id",
    )


def _strategy(url: str) -> None:
    query(
        url,
        "INSERT INTO strategies (id, class_path, config, status, mode, created_at, updated_at) "
        "VALUES ('s', 'm:C', '{}', 'active', 'BACKTEST', now(), now()) RETURNING id",
    )


def _fk_validated(url: str) -> object:
    [(validated,)] = query(
        url, "SELECT convalidated FROM pg_constraint WHERE conname = 'fk_fills_run_id_orders'"
    )
    return validated


def test_0008_turns_an_engaged_switch_into_halt_entries_and_keeps_engaged_readable(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, "0007")
    query(url, "UPDATE kill_switch SET engaged = true, reason = 'broker down' RETURNING id")
    upgrade(url, "0008")
    assert query(url, "SELECT mode, engaged, reason FROM kill_switch") == [
        ("halt_entries", True, "broker down")
    ]
    for mode, engaged in (("reduce_only", True), ("flatten_and_halt", True), ("active", False)):
        query(url, f"UPDATE kill_switch SET mode = '{mode}' RETURNING id")
        assert query(url, "SELECT engaged FROM kill_switch") == [(engaged,)]
    with pytest.raises(IntegrityError, match="ck_kill_switch_mode"):
        query(url, "UPDATE kill_switch SET mode = 'paused' RETURNING id")
    with pytest.raises(DBAPIError, match="can only be updated to DEFAULT"):  # derived
        query(url, "UPDATE kill_switch SET engaged = true RETURNING id")

    query(url, "UPDATE kill_switch SET mode = 'reduce_only' RETURNING id")
    downgrade(url, "0007")
    assert query(url, "SELECT engaged, reason FROM kill_switch") == [(True, "broker down")]
    query(url, "UPDATE kill_switch SET engaged = false RETURNING id")  # a plain column again
    upgrade(url)
    assert query(url, "SELECT mode, engaged FROM kill_switch") == [("active", False)]


def test_0008_adds_the_order_lifecycle_columns_and_ties_new_fills_to_their_order(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, "0007")
    _strategy(url)
    old = _run(url, "01")
    _order(url, old, "o-1", closed="2024-01-03T14:30:00Z")
    _order(url, old, "o-2", closed=None)
    _fill(url, old, "f-1", "o-1")
    _fill(url, old, "w1-f-1", "w1-o-1")  # a walk-forward stored before 0008 kept no orders
    upgrade(url, "0008")
    rows = query(
        url,
        "SELECT client_order_id, broker_order_id, code, updated_at::text FROM orders ORDER BY 1",
    )
    assert rows == [
        ("o-1", None, "", "2024-01-03 14:30:00+00"),
        ("o-2", None, "", "2024-01-02 15:00:00+00"),
    ]
    assert _fk_validated(url) is False  # the old orphan is kept, not checked
    new = _run(url, "02")
    with pytest.raises(IntegrityError, match="fk_fills_run_id_orders"):
        _fill(url, new, "f-1", "o-1")  # o-1 belongs to the other run
    _order(url, new, "o-1", closed=None)
    _fill(url, new, "f-1", "o-1")
    _fill(url, new, "f-2", "o-1")  # one order, many fills
    assert query(url, f"SELECT count(*) FROM fills WHERE run_id = '{new}'") == [(2,)]
    query(url, f"DELETE FROM orders WHERE run_id = '{new}' RETURNING id")
    assert query(url, f"SELECT count(*) FROM fills WHERE run_id = '{new}'") == [(0,)]

    downgrade(url, "0007")
    columns = query(
        url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'"
    )
    assert not {"broker_order_id", "code", "updated_at"} & {c[0] for c in columns}
    _fill(url, new, "f-9", "nowhere")  # no link any more
    upgrade(url)


def test_0008_validates_the_fill_to_order_link_when_every_fill_has_its_order(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, "0007")
    _strategy(url)
    run_id = _run(url, "01")
    _order(url, run_id, "o-1", closed="2024-01-03T14:30:00Z")
    _fill(url, run_id, "f-1", "o-1")
    upgrade(url, "0008")
    assert _fk_validated(url) is True
