"""Migration 0006 adds api_keys (going with their owner) and takes it away on downgrade."""

from __future__ import annotations

from quant_db.migrate import downgrade, upgrade
from tests.integration.test_migrations import query, tables


def test_0006_adds_api_keys_that_go_with_their_user_and_drops_them_on_downgrade(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    upgrade(url, "0006")
    indexes = query(url, "SELECT indexname FROM pg_indexes WHERE tablename = 'api_keys' ORDER BY 1")
    assert [r[0] for r in indexes] == ["ix_api_keys_user_id", "pk_api_keys", "uq_api_keys_prefix"]
    query(
        url,
        "INSERT INTO users (id, username, password_hash, role, is_active) "
        "VALUES (7, 'ana', 'x', 'viewer', true) RETURNING id",
    )
    query(
        url,
        "INSERT INTO api_keys (user_id, name, prefix, secret_hash, role) "
        "VALUES (7, 'n', 'abcdef123456', repeat('0', 64), 'viewer') RETURNING id",
    )
    assert query(url, "SELECT count(*) FROM api_keys") == [(1,)]
    query(url, "DELETE FROM users WHERE id = 7 RETURNING id")
    assert query(url, "SELECT count(*) FROM api_keys") == [(0,)]
    downgrade(url, "0005")
    assert "api_keys" not in tables(url)
    assert "refresh_tokens" in tables(url)
    upgrade(url)
    assert "api_keys" in tables(url)
