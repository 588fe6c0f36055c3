"""Migration 0012: heartbeats, alert dedupe keys and the delivery queue; alerts raised before it
are marked routed, so the new channels do not send days-old alerts."""

from __future__ import annotations

from quant_db.migrate import downgrade, upgrade
from tests.integration.test_migrations import query


def test_0012_marks_older_alerts_routed_and_drops_its_tables_on_downgrade(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, "0011")
    query(
        url,
        "INSERT INTO alerts (severity, source, message) VALUES ('warning', 'risk', 'old') "
        "RETURNING id",
    )
    upgrade(url, "0012")
    assert query(url, "SELECT routed_at = ts, dedupe_key FROM alerts") == [(True, None)]
    query(
        url,
        "INSERT INTO alerts (severity, source, message) VALUES ('info', 'x', 'new') RETURNING id",
    )
    assert query(url, "SELECT count(*) FROM alerts WHERE routed_at IS NULL") == [(1,)]
    downgrade(url, "0011")
    tables = query(
        url,
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_name IN ('heartbeats', 'alert_deliveries')",
    )
    assert tables == []
    upgrade(url)
