"""The embedded defaults start real servers: Valkey answers the redis client, PostgreSQL is reused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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
