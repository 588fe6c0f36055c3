"""A database the platform cannot use is one line naming DATABASE_URL and exit 2, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.integration.conftest import with_database


def _quant(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "from quant_cli.main import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


@pytest.mark.parametrize(
    "command",
    # `quant worker` is left out on purpose: a server that does not answer is an outage it waits
    # out (tests/integration/test_outage_worker.py); a wrong database is refused below
    [("db", "upgrade"), ("kill-switch", "status"), ("api", "--port", "1")],
)
def test_a_server_that_does_not_answer_is_one_line_for_every_database_command(
    command: tuple[str, ...], tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/quant"
    state = str(tmp_path_factory.mktemp("state"))
    line = _one_line(_quant(*command, env={"DATABASE_URL": url, "QUANT_STATE_DIR": state}))
    assert line.startswith(f"error: DATABASE_URL: cannot use the database at {url}: ")


def test_a_missing_database_is_named_by_the_server(server_url: str) -> None:
    url = with_database(server_url, "no_such_database_here")
    line = _one_line(_quant("db", "upgrade", env={"DATABASE_URL": url}))
    assert line.startswith("error: DATABASE_URL: cannot use the database at ")
    assert 'database "no_such_database_here" does not exist' in line


def test_the_worker_refuses_a_database_that_does_not_exist_instead_of_waiting(
    server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = with_database(server_url, "no_such_database_here")
    state = str(tmp_path_factory.mktemp("state"))
    line = _one_line(
        _quant("worker", "--drain", env={"DATABASE_URL": url, "QUANT_STATE_DIR": state})
    )
    assert 'database "no_such_database_here" does not exist' in line


def test_a_password_in_the_url_never_reaches_the_message() -> None:
    url = f"postgresql+asyncpg://ops:hunter2@127.0.0.1:{_closed_port()}/quant"
    line = _one_line(_quant("db", "upgrade", env={"DATABASE_URL": url}))
    assert "hunter2" not in line
    assert "ops:***@" in line


def test_a_url_that_is_not_postgresql_is_refused_before_connecting() -> None:
    line = _one_line(_quant("db", "upgrade", env={"DATABASE_URL": "mysql://root@localhost/quant"}))
    assert line == (
        "error: DATABASE_URL: mysql:// is not supported: the platform needs PostgreSQL "
        "(postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DATABASE)"
    )
