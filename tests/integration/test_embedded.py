"""The embedded defaults start real servers: Valkey answers the redis client, PostgreSQL is reused."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis

from quant_db import embedded_valkey
from quant_db.embedded import (
    EmbeddedKeeper,
    database_url,
    embedded_postgres_url,
    embedded_redis_url,
    redis_url,
    revive_postgres,
    revive_valkey,
)
from quant_db.outages import database_unreachable
from quant_db.settings import StorageSettings
from quant_db.urls import asyncpg_dsn
from quant_domain import ConfigError
from tests.integration.private_servers import server_folder


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


def test_embedded_postgres_is_started_once_per_state_folder() -> None:
    state = server_folder("quant-embedded-")  # not under pytest's folders: private_servers.py
    first = embedded_postgres_url(state)
    assert embedded_postgres_url(state) == first
    assert first.startswith("postgresql+asyncpg://")
    assert (state / "pgdata" / "PG_VERSION").exists()


def _valkey_user(state: Path) -> subprocess.Popen[str]:
    """A process that joins the embedded Valkey of `state`, prints its URL and exits (leaving
    it, through atexit) when its stdin closes. Its own process group, like a second terminal."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from quant_db.embedded import embedded_redis_url; "
            "print(embedded_redis_url(Path(sys.argv[1])), flush=True); sys.stdin.read()",
            str(state),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _joined(user: subprocess.Popen[str]) -> str:
    assert user.stdout is not None
    url = user.stdout.readline().strip()
    assert url.startswith("redis://"), url
    return url


def _gone(url: str, seconds: float = 10.0) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                client.ping()
            except redis.ConnectionError:
                return True
            time.sleep(0.1)
        return False
    finally:
        client.close()


def test_a_second_process_reuses_the_embedded_valkey_of_its_state_folder(tmp_path: Path) -> None:
    """`quant api` and `quant worker` started separately on the same state folder must meet in
    one Valkey (worker presence, rate limits), as they meet in one embedded PostgreSQL."""
    first, second = _valkey_user(tmp_path), _valkey_user(tmp_path)
    try:
        assert _joined(first) == _joined(second)
    finally:
        first.communicate(timeout=30)
        second.communicate(timeout=30)
    assert (first.returncode, second.returncode) == (0, 0)


def test_the_embedded_valkey_outlives_its_starter_and_stops_with_its_last_user(
    tmp_path: Path,
) -> None:
    """Stopping the `quant api` that happened to start Valkey (Ctrl-C in its terminal) must
    not take Redis away from a `quant worker` still running; the last one out stops it."""
    starter = _valkey_user(tmp_path)
    url = _joined(starter)
    other = _valkey_user(tmp_path)
    try:
        assert _joined(other) == url
        os.killpg(starter.pid, signal.SIGINT)  # what Ctrl-C sends its terminal's process group
        starter.communicate(timeout=30)
        client = redis.Redis.from_url(url)
        assert client.ping()
        client.close()
    finally:
        other.communicate(timeout=30)
        if starter.poll() is None:
            starter.kill()
    assert _gone(url)
    assert not (tmp_path / "valkey.url").exists()


def test_a_valkey_user_killed_outright_is_not_waited_for(tmp_path: Path) -> None:
    """A user that dies without leaving (SIGKILL) drops out of the users, so the last live user
    still stops the server."""
    killed, last = _valkey_user(tmp_path), _valkey_user(tmp_path)
    url = _joined(killed)
    try:
        assert _joined(last) == url
        killed.kill()
        killed.communicate(timeout=30)
    finally:
        last.communicate(timeout=30)
    assert _gone(url)


def test_the_embedded_valkey_stops_even_when_its_state_folder_is_removed_first(
    tmp_path: Path,
) -> None:
    """Benchmarks and scripts keep their state in a temporary folder that is deleted before the
    process's exit handlers run; the server must not outlive them."""
    code = (
        "import shutil, sys; from pathlib import Path; "
        "from quant_db.embedded import embedded_redis_url; "
        "state = Path(sys.argv[1]); print(embedded_redis_url(state), flush=True); "
        "shutil.rmtree(state)"
    )
    state = tmp_path / "state"
    done = subprocess.run(
        [sys.executable, "-c", code, str(state)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    url = done.stdout.strip()
    assert url.startswith("redis://")
    assert not state.exists()
    assert _gone(url)


def _kill_valkey(url: str) -> int:
    """SIGKILL the Valkey server at `url` (as a crash would) and return its port."""
    client = redis.Redis.from_url(url)
    pid = int(client.info("server")["process_id"])
    client.close()
    os.kill(pid, signal.SIGKILL)
    assert _gone(url)
    port = urlsplit(url).port
    assert port is not None
    return port


def test_a_dead_embedded_valkey_comes_back_on_its_port_with_the_next_process(
    tmp_path: Path,
) -> None:
    """A running API's client points at the old port: a Valkey brought back anywhere else
    would leave it failing until restarted."""
    url = embedded_redis_url(tmp_path)
    _kill_valkey(url)
    user = _valkey_user(tmp_path)
    try:
        assert _joined(user) == url
    finally:
        user.communicate(timeout=30)
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        assert client.ping() is True  # still up: this process uses it too
    finally:
        client.close()


def test_a_process_using_the_embedded_valkey_brings_it_back_on_the_same_port(
    tmp_path: Path,
) -> None:
    url = embedded_redis_url(tmp_path)
    assert revive_valkey(tmp_path) is False  # running: nothing to do
    _kill_valkey(url)
    assert revive_valkey(tmp_path) is True
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_a_new_embedded_valkey_that_loses_its_port_to_another_valkey_starts_on_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Test processes run side by side (pytest-xdist) each start a Valkey on a port found free a
    moment before: one that another Valkey took meanwhile must not hand out the other's URL."""
    other = embedded_redis_url(tmp_path / "other")
    taken = urlsplit(other).port
    ports = iter([taken])
    real_free_port = embedded_valkey._free_port
    monkeypatch.setattr(
        embedded_valkey, "_free_port", lambda: next(ports, None) or real_free_port()
    )
    url = embedded_redis_url(tmp_path / "mine")
    assert url != other
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        assert client.config_get("dir")["dir"] == str((tmp_path / "mine" / "valkey").resolve())
    finally:
        client.close()


def test_a_valkey_port_taken_meanwhile_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    url = embedded_redis_url(tmp_path)
    port = _kill_valkey(url)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(ConfigError, match=f"port {port} .* taken by another program"):
            revive_valkey(tmp_path)
    assert revive_valkey(tmp_path) is True  # freed: back on its port


def _can_connect(url: str) -> bool:
    async def probe() -> bool:
        try:
            connection = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
        except Exception as exc:
            if database_unreachable(exc):  # refused, reset, or closed while it dies
                return False
            raise
        await connection.close()
        return True

    return asyncio.run(probe())


def _kill_postgres(state: Path, url: str) -> None:
    pid = int((state / "pgdata" / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _can_connect(url):
        assert time.monotonic() < deadline, "the killed server still answers"
        time.sleep(0.1)


def test_a_dead_embedded_postgres_comes_back_on_the_same_socket() -> None:
    """Killed under a running API and worker, the embedded PostgreSQL is started again by the
    next quant process, or by a worker that uses it, at the same URL: their clients reconnect."""
    state = server_folder("quant-embedded-")
    url = embedded_postgres_url(state)
    assert revive_postgres(state) is False  # running: nothing to do

    _kill_postgres(state, url)
    joined = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from quant_db.embedded import embedded_postgres_url; "
            "print(embedded_postgres_url(Path(sys.argv[1])))",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert joined.stdout.strip() == url
    assert _can_connect(url)  # and still up: this process uses it too

    _kill_postgres(state, url)
    deadline = time.monotonic() + 30
    while not revive_postgres(state):  # False while the killed process is not yet reaped
        assert time.monotonic() < deadline, "never started again"
        time.sleep(0.2)
    assert _can_connect(url)


def test_quant_up_keeper_starts_a_dead_valkey_again_and_says_so(tmp_path: Path) -> None:
    """`quant up` hands its children the URLs, so it is the one to bring a server back."""
    settings = StorageSettings(
        database_url="postgresql+asyncpg://u@db.example/quant",  # not embedded: left alone
        quant_state_dir=tmp_path,
    )
    url = embedded_redis_url(tmp_path)
    said: list[str] = []
    keeper = EmbeddedKeeper(settings, say=said.append, every_s=0)
    keeper.check()
    assert said == []
    _kill_valkey(url)
    keeper.check()
    assert said == ["the embedded Valkey had stopped: started it again at the same address"]
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        assert client.ping() is True
    finally:
        client.close()
