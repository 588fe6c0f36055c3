"""The embedded defaults start real servers: Valkey answers the redis client, PostgreSQL is reused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import redis

from quant_db.embedded import database_url, embedded_postgres_url, embedded_redis_url, redis_url
from quant_db.settings import StorageSettings


def test_embedded_valkey_answers_the_redis_client(tmp_path: Path) -> None:
    url = embedded_redis_url(tmp_path)
    client = redis.Redis.from_url(url)
    try:
        assert client.ping() is True
        client.xadd("bar.closed", {"symbol": "SP500"})
        assert client.xlen("bar.closed") == 1
        assert embedded_redis_url(tmp_path) == url  # started once per state folder
    finally:
        client.close()


def test_urls_from_settings_win_over_the_embedded_servers(tmp_path: Path) -> None:
    settings = StorageSettings(
        database_url="postgresql+asyncpg://u:p@db.example:5432/quant",
        redis_url="redis://cache.example:6379/0",
        quant_state_dir=tmp_path,
    )
    assert database_url(settings) == "postgresql+asyncpg://u:p@db.example:5432/quant"
    assert redis_url(settings) == "redis://cache.example:6379/0"
    assert not (tmp_path / "pgdata").exists()


def test_embedded_postgres_is_started_once_per_state_folder(tmp_path: Path) -> None:
    first = embedded_postgres_url(tmp_path)
    assert embedded_postgres_url(tmp_path) == first
    assert first.startswith("postgresql+asyncpg://")
    assert (tmp_path / "pgdata" / "PG_VERSION").exists()


def test_a_second_process_reuses_the_embedded_valkey_of_its_state_folder(tmp_path: Path) -> None:
    """`quant api` and `quant worker` started separately on the same state folder must meet in
    one Valkey (worker presence, rate limits), as they meet in one embedded PostgreSQL."""
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from quant_db.embedded import _RUNNING, embedded_redis_url; "
            "print(embedded_redis_url(Path(sys.argv[1])), flush=True); sys.stdin.read(); "
            "[server.stop() for server in _RUNNING.values()]",
            str(tmp_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        url = owner.stdout.readline().strip()
        assert url.startswith("redis://")
        assert embedded_redis_url(tmp_path) == url
    finally:
        owner.communicate(timeout=30)  # closing its stdin makes the owner stop its server
    assert owner.returncode == 0
