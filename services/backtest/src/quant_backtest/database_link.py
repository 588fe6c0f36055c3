"""The worker's link to PostgreSQL: connect, wait out an outage with a capped backoff, log changes.

A worker must outlive its database: when PostgreSQL is down at start or goes away while serving,
the worker says so once, retries with growing pauses (capped), and says so again when it is back.
With the embedded server, the link can also start it again (`revive`), since nobody else may.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from asyncpg.exceptions import InternalClientError

from quant_db.outages import database_unreachable, reason
from quant_db.urls import asyncpg_dsn, redacted
from quant_domain import ConfigError

CONNECT_TIMEOUT_S = 5.0
log = structlog.get_logger("quant.worker")


class DatabaseLost(Exception):
    """PostgreSQL went away under a run: the attempt is abandoned and the run retried later."""


async def close_quietly(connection: asyncpg.Connection[Any]) -> None:
    """Close politely when the server is there, else just drop the socket."""
    try:
        await connection.close(timeout=2)
    except Exception:  # the server went with the connection
        connection.terminate()


@dataclass(frozen=True, slots=True)
class Backoff:
    """Pauses between reconnection attempts: `first`, doubling up to `cap` seconds."""

    first: float = 0.5
    cap: float = 10.0

    def delay(self, failures: int) -> float:
        return float(min(self.cap, self.first * 2 ** max(failures - 1, 0)))


_DATABASE_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, InternalClientError)


class _QuietWhileDown(logging.Filter):
    """pgqueuer logs a traceback for every heartbeat or status write that fails: while the link
    knows the database is down those are dropped (it said so in one line), and a database error
    it reports otherwise (the first moments of an outage) keeps one line, not the traceback."""

    def __init__(self, link: DatabaseLink) -> None:
        super().__init__()
        self.link = link

    def filter(self, record: logging.LogRecord) -> bool:
        if self.link.down:
            return False
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and (database_unreachable(exc) or isinstance(exc, _DATABASE_ERRORS)):
            record.msg = f"{record.getMessage()} ({reason(exc)})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


class DatabaseLink:
    """Connections to the database at `url`, waiting while it is unreachable."""

    def __init__(
        self,
        url: str,
        *,
        backoff: Backoff | None = None,
        revive: Callable[[], bool] | None = None,
    ) -> None:
        self.url = url
        self.backoff = backoff or Backoff()
        self.revive = revive  # starts the embedded server again; True when it had to
        self.down = False
        self._down_since = 0.0

    async def connect(self, stop: asyncio.Event) -> asyncpg.Connection[Any] | None:
        """A connection, once the server answers; None when `stop` is set first.

        An error that is not an outage (wrong password, no such database) is a ConfigError:
        waiting would not fix it.
        """
        failures = 0
        while not stop.is_set():
            try:
                connection: asyncpg.Connection[Any] = await asyncpg.connect(
                    asyncpg_dsn(self.url), timeout=CONNECT_TIMEOUT_S
                )
            except Exception as exc:
                if not database_unreachable(exc):
                    text = (str(exc).splitlines() or [""])[0] or type(exc).__name__
                    raise ConfigError(
                        f"cannot use the database at {redacted(self.url)}: {text}",
                        field="DATABASE_URL",
                    ) from None
                failures += 1
                self._went_down(exc, "worker.database_unreachable", failures)
                await self._revive()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.backoff.delay(failures))
                continue
            if self.down:
                self.down = False
                log.info(
                    "worker.database_reachable",
                    database=redacted(self.url),
                    down_for_s=round(time.monotonic() - self._down_since, 1),
                )
            return connection
        return None

    def lost(self, exc: BaseException) -> None:
        """The connection in use failed: say so (once) before reconnecting."""
        self._went_down(exc, "worker.database_lost", 1)

    def _went_down(self, exc: BaseException, event: str, failures: int) -> None:
        if self.down:
            return
        self.down = True
        self._down_since = time.monotonic()
        log.warning(
            event,
            database=redacted(self.url),
            error=reason(exc),
            retry_in_s=self.backoff.delay(failures),
            retry_max_s=self.backoff.cap,
        )

    async def _revive(self) -> None:
        if self.revive is None:
            return
        try:
            restarted = await asyncio.to_thread(self.revive)
        except Exception as exc:  # the next attempt tries again; say why this one failed
            log.warning("worker.database_not_restarted", error=reason(exc))
            return
        if restarted:
            log.info("worker.database_restarted", database=redacted(self.url))

    @contextlib.contextmanager
    def quiet_pgqueuer(self) -> Any:
        """While inside, pgqueuer's logs of the outage are left out."""
        logger = logging.getLogger("pgqueuer")
        quiet = _QuietWhileDown(self)
        logger.addFilter(quiet)
        try:
            yield
        finally:
            logger.removeFilter(quiet)
