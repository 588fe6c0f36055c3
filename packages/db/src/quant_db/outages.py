"""Telling a PostgreSQL outage (server down, restarting, connection lost) from every other error.

The API answers an outage with 503 and Retry-After instead of 500, and the worker waits and
reconnects instead of failing the run: both need the same verdict on an exception, whichever layer
(asyncpg, SQLAlchemy, the socket) raised it.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATEs that mean "no usable server right now": connection exceptions (class 08), the server
# shutting down, crashed or starting up (57P01-57P03), and no connection slot left (53300)
_OUTAGE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_CLOSED = ("connection is closed", "connection was closed")
# modules an OSError must pass through to be the database's: a file a strategy reads is not
_DRIVERS = ("asyncpg", "sqlalchemy")
_CHAIN_LIMIT = 16


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, what SQLAlchemy wrapped (`orig`), and its causes and contexts, each once."""
    seen: set[int] = set()
    pending = [exc]
    while pending and len(seen) < _CHAIN_LIMIT:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(inner, BaseException):
                pending.append(inner)


def _raised_by_driver(exc: BaseException) -> bool:
    traceback = exc.__traceback__
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(_DRIVERS):
            return True
        traceback = traceback.tb_next
    return False


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, PoolTimeout):  # every pooled connection busy: the server is overwhelmed
        return True
    state = str(getattr(exc, "sqlstate", "") or "")
    if state.startswith("08") or state in _OUTAGE_STATES:
        return True
    if isinstance(exc, asyncpg.InterfaceError):
        return any(words in str(exc) for words in _CLOSED)
    # refused, reset, socket file gone, connect timed out: only when the driver was connecting
    return isinstance(exc, OSError) and _raised_by_driver(exc)


def database_unreachable(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) says PostgreSQL cannot be reached or used right now,
    as opposed to a query, a value or the code being wrong."""
    return any(_is_outage(part) for part in _chain(exc))


def reason(exc: BaseException) -> str:
    """The outage in one line for a log: the innermost cause's type and first line."""
    parts = list(_chain(exc))
    innermost = next((p for p in reversed(parts) if _is_outage(p)), exc)
    text = (str(innermost).splitlines() or [""])[0]
    return f"{type(innermost).__name__}: {text}"[:200] if text else type(innermost).__name__
