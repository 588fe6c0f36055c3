"""The worker's database link: capped reconnection pauses, and pgqueuer kept to one line."""

from __future__ import annotations

import logging

import pytest
from asyncpg import exceptions as pg

from quant_backtest.database_link import Backoff, DatabaseLink


def test_backoff_doubles_from_its_first_pause_up_to_its_cap() -> None:
    backoff = Backoff(first=0.5, cap=10.0)
    assert [backoff.delay(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def _pgqueuer_error(exc: BaseException) -> None:
    try:
        raise exc
    except BaseException:
        logging.getLogger("pgqueuer").exception("Flush failed, requeuing %d items", 1)


def test_pgqueuer_database_errors_lose_their_traceback_and_vanish_while_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = DatabaseLink("postgresql+asyncpg://u@127.0.0.1:1/db")
    with caplog.at_level(logging.INFO, logger="pgqueuer"), link.quiet_pgqueuer():
        _pgqueuer_error(pg.InternalClientError("cannot switch to state 12"))
        _pgqueuer_error(KeyError("a bug keeps its traceback"))
        link.down = True
        _pgqueuer_error(pg.ConnectionDoesNotExistError("connection was closed"))
    first, second = caplog.records
    assert first.getMessage() == (
        "Flush failed, requeuing 1 items (InternalClientError: cannot switch to state 12)"
    )
    assert first.exc_info is None
    assert second.exc_info is not None
