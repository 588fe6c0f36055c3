"""Migration 0010: a reconciliation row says when the runner carried its resolution out; a
resolution still pending at the upgrade waits for the runner, one checked again since is settled."""

from __future__ import annotations

from quant_db.migrate import downgrade, upgrade
from tests.integration.test_migrations import query


def _row(url: str, account: str, state: str, resolution: str | None) -> None:
    choice = "NULL" if resolution is None else f"'{resolution}'"
    query(
        url,
        "INSERT INTO reconciliation (account, state, checked_at, diff, resolution, resolved_at) "
        f"VALUES ('{account}', '{state}', '2026-12-01T10:00:00Z', '{{}}', {choice}, "
        "'2026-12-01T09:00:00Z') RETURNING account",
    )


def test_0010_adds_carried_out_at_leaving_only_a_pending_resolution_waiting(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, "0009")
    _row(url, "waits", "pending", "adopt")
    _row(url, "settled", "clean", "flatten")
    _row(url, "never", "blocked", None)
    upgrade(url, "0010")
    rows = query(
        url,
        "SELECT account, carried_out_at IS NULL, carried_out_at = checked_at "
        "FROM reconciliation ORDER BY account",
    )
    assert rows == [("never", True, None), ("settled", False, True), ("waits", True, None)]
    downgrade(url, "0009")
    columns = query(
        url,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'reconciliation' AND column_name = 'carried_out_at'",
    )
    assert columns == []
    upgrade(url)
