"""Which errors are a PostgreSQL outage (503 and retry) and which are not (a bug or bad data)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import asyncpg
import pytest
from asyncpg import exceptions as pg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from quant_db.outages import database_unreachable, reason


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _connect_error(dsn: str) -> BaseException:
    async def connect() -> BaseException:
        try:
            await asyncpg.connect(dsn, timeout=5)
        except OSError as exc:
            return exc
        raise AssertionError(f"connected to {dsn}")

    return asyncio.run(connect())


def test_a_refused_connection_is_an_outage() -> None:
    error = _connect_error(f"postgresql://u@127.0.0.1:{_closed_port()}/db")
    assert isinstance(error, ConnectionRefusedError)
    assert database_unreachable(error)
    assert reason(error).startswith("ConnectionRefusedError")


def test_a_missing_unix_socket_is_an_outage(tmp_path: Path) -> None:
    """The embedded server listens on a socket file, which goes when it stops."""
    error = _connect_error(f"postgresql://u@/db?host={tmp_path}")
    assert database_unreachable(error)


def test_an_os_error_outside_the_driver_is_not_an_outage(tmp_path: Path) -> None:
    """A strategy's own missing file must fail the run, not wait for a database."""
    with pytest.raises(FileNotFoundError) as caught:
        (tmp_path / "nope.csv").read_text()
    assert not database_unreachable(caught.value)


@pytest.mark.parametrize(
    "error",
    [
        pg.CannotConnectNowError("the database system is starting up"),
        pg.AdminShutdownError("terminating connection due to administrator command"),
        pg.CrashShutdownError("terminating connection because of crash of another process"),
        pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        pg.ConnectionFailureError("server closed the connection"),
        pg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError("cannot perform operation: connection is closed"),
        PoolTimeout("QueuePool limit of size 5 overflow 10 reached"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_server_going_away_starting_up_or_full_is_an_outage(error: BaseException) -> None:
    assert database_unreachable(error)


@pytest.mark.parametrize(
    "error",
    [
        pg.QueryCanceledError("canceling statement due to statement timeout"),
        pg.NumericValueOutOfRangeError("numeric field overflow"),
        pg.UniqueViolationError("duplicate key value"),
        pg.InvalidPasswordError("password authentication failed"),
        asyncpg.InterfaceError("cannot use Connection.transaction() in a manually started one"),
        ValueError("not a database error at all"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_refused_statement_or_a_bug_is_not_an_outage(error: BaseException) -> None:
    assert not database_unreachable(error)


def test_sqlalchemy_wrapping_is_seen_through() -> None:
    invalidated = DBAPIError("SELECT 1", None, Exception("gone"), connection_invalidated=True)
    assert database_unreachable(invalidated)
    wrapped = DBAPIError("SELECT 1", None, Exception("wrapped"))
    wrapped.orig = pg.AdminShutdownError("terminating connection")  # type: ignore[assignment]
    assert database_unreachable(wrapped)
    assert reason(wrapped).startswith("AdminShutdownError")
    data = DBAPIError("SELECT 1", None, pg.NumericValueOutOfRangeError("overflow"))
    assert not database_unreachable(data)


def test_a_cause_chain_is_followed() -> None:
    def give_up() -> None:
        try:
            raise pg.ConnectionDoesNotExistError("connection was closed in the middle")
        except pg.ConnectionDoesNotExistError as inner:
            raise RuntimeError("the engine gave up") from inner

    with pytest.raises(RuntimeError) as caught:
        give_up()
    assert database_unreachable(caught.value)
