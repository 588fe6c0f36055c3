"""Rebuilding a paper session after a crash: replay the steps it had processed, write nothing new.

A PaperSession (ledger, paper broker, strategy state) lives in memory. What survives a SIGKILL
is PostgreSQL and the `bars.closed` stream, so a session is rebuilt from them:

- **Which steps ran.** After each step's orders and reports committed, the runner claims one
  processed-event key for it in the run's own group `paper-steps:<run id>`:
  `step:<index>:<bars>:<mode>:<time>` (`StepMark`). Its index counts from 0, `bars` is how many
  bars the step held and `mode` the kill-switch mode the step ran under. A step whose mark is
  missing did not finish: its bars are still pending on the stream (the bus acknowledges after
  the handler returns), so the runner runs it again when they come back, and the journal leaves
  whatever that step had written already (same content) as it is.
- **Their bars.** The stream keeps every entry for its retention (trimmed by age, never by
  length): `stream_history` reads the feed's entries back with XRANGE, up to the last entry the
  run's group was handed, and each marked step takes the first `bars` entries of its time, in
  stream order (what the runner's assembler took). The entries after the last marked step go
  back into the runner's assembler (`Restored.after`): an unfinished step's first bars may have
  been acknowledged with an earlier batch and will not come again.
- **Replayed, not traded again.** A fresh session (same strategy config, same settings) is built
  around a journal in recovering mode and fed the marked steps in order under their modes. The
  paper broker is in that session, so its working orders, fills and ids come back as they were.
  Every write the replay makes must match a stored row (same client order id and content, same
  report, same fill): a missing or different one raises `RecoveryError` and nothing is traded.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_bus.streams import BARS_CLOSED, BarClosedEvent, UndecodableEntryError, decode
from quant_db import oms_store
from quant_db.journal import PostgresJournal
from quant_db.outages import database_unreachable
from quant_domain import Bar, KillSwitchMode, QuantError
from quant_domain.ports import OrderJournal
from quant_engine.paper import PaperSession
from quant_execution.steps import StepAssembler

STEP_PREFIX = "step:"


class RecoveryError(QuantError):
    """A run's session cannot be rebuilt as it ran (its bars are gone, or the replay decides
    differently from what is stored): the runner stops and sends nothing."""


def steps_group(run_id: uuid.UUID) -> str:
    """The processed-events group holding a paper run's step marks."""
    return f"paper-steps:{run_id}"


@dataclass(frozen=True, slots=True)
class StepMark:
    """A step the runner finished: its number, time, bar count and kill-switch mode."""

    index: int
    at: datetime
    bars: int
    mode: KillSwitchMode

    @property
    def key(self) -> str:
        # the zero-padded index sorts the keys in step order
        return f"{STEP_PREFIX}{self.index:010d}:{self.bars}:{self.mode.value}:{self.at.isoformat()}"

    @classmethod
    def parse(cls, key: str) -> StepMark:
        index, bars, mode, at = key.removeprefix(STEP_PREFIX).split(":", 3)
        return cls(int(index), datetime.fromisoformat(at), int(bars), KillSwitchMode(mode))


class StreamReader(Protocol):
    """What `stream_history` needs of a Redis client (redis.asyncio.Redis, decoded responses)."""

    def xrange(self, name: str, min: str = "-", max: str = "+", count: int | None = None) -> Any:
        """XRANGE: entries of `name` from `min` to `max`, at most `count`."""

    def xinfo_groups(self, name: str) -> Any:
        """XINFO GROUPS: the consumer groups of stream `name`."""


async def _last_delivered(client: StreamReader, group: str) -> str | None:
    try:
        groups = await client.xinfo_groups(BARS_CLOSED)
    except Exception as exc:  # no stream yet: nothing was ever delivered
        if "no such key" in str(exc).lower():
            return None
        raise
    for info in groups:
        if info["name"] == group:
            return str(info["last-delivered-id"])
    return None


async def group_position(client: StreamReader, group: str) -> str | None:
    """The last entry `group` was handed (for a group just created at the stream's end: where
    its run's feed begins); None when the group does not exist."""
    return await _last_delivered(client, group)


async def stream_history(
    client: StreamReader,
    source: str,
    *,
    group: str | None = None,
    after: str | None = None,
    chunk: int = 1_000,
) -> list[BarClosedEvent]:
    """The `bars.closed` events of feed `source` the stream still holds, in stream order, each
    idempotency key once (a republished history repeats keys); with `group`, only those up to
    the last entry the group was handed (the rest it reads from the bus as usual); with
    `after`, only entries after that id (where the run's group began: an earlier publication
    under the same feed name is not the run's). Entries that do not decode are skipped, as the
    consumer dead-letters them without running them."""
    last = "+"
    if group is not None:
        delivered = await _last_delivered(client, group)
        if delivered is None or delivered == "0-0":
            return []
        last = delivered
    events: list[BarClosedEvent] = []
    seen: set[str] = set()
    start = "-" if after is None else f"({after}"
    while True:
        rows = await client.xrange(BARS_CLOSED, min=start, max=last, count=chunk)
        for _, fields in rows:
            try:
                event = decode(BARS_CLOSED, fields)
            except UndecodableEntryError:
                continue
            assert isinstance(event, BarClosedEvent)  # the stream's bound type
            if event.source == source and event.idempotency_key not in seen:
                seen.add(event.idempotency_key)
                events.append(event)
        if len(rows) < chunk:
            return events
        start = f"({rows[-1][0]}"


SessionFactory = Callable[[OrderJournal], PaperSession]
"""Builds the run's session around a journal: same strategy config, settings and calendar."""

History = Callable[[], Awaitable[Sequence[BarClosedEvent]]]
"""The feed's events the run's group was handed, still on the stream (e.g. `lambda:
stream_history(client, source, group=group)`)."""


@dataclass(frozen=True, slots=True)
class Recovery:
    """Where a paper run's session can be rebuilt from: its store, its factory, its feed."""

    sessions: async_sessionmaker[AsyncSession]
    run_id: uuid.UUID
    build: SessionFactory
    history: History
    journal_timeout: float = 5.0

    def journal(self) -> PostgresJournal:
        """A journal for this run on the running event loop."""
        return PostgresJournal(
            self.sessions, self.run_id, asyncio.get_running_loop(), timeout=self.journal_timeout
        )

    async def marks(self) -> list[StepMark]:
        """The run's finished steps, in order; their indexes must run 0, 1, 2, ... unbroken."""
        async with self.sessions() as db:
            keys = await oms_store.processed_keys(db, steps_group(self.run_id), STEP_PREFIX)
        marks = [StepMark.parse(key) for key in keys]
        for expected, mark in enumerate(marks):
            if mark.index != expected:
                raise RecoveryError(
                    f"run {self.run_id}: step {expected} has no mark but step {mark.index} has; "
                    "the stored steps are not a prefix of the feed"
                )
        return marks

    async def mark(self, mark: StepMark) -> None:
        """Record that step `mark` finished (its writes committed before this)."""
        async with self.sessions.begin() as db:
            await oms_store.mark_processed(db, steps_group(self.run_id), mark.key)


@dataclass(frozen=True, slots=True)
class Restored:
    """A session rebuilt to where the run stood: the steps it replayed and their bars' keys
    (a redelivered bar among them is skipped, never run twice)."""

    session: PaperSession
    journal: PostgresJournal
    steps: tuple[StepMark, ...]
    seen: frozenset[str]
    after: tuple[BarClosedEvent, ...] = ()
    """The feed's events later than the last replayed step, in stream order: bars of a step
    that had not finished may have been acknowledged with an earlier batch, so the runner takes
    them from here (the ones handed out again are then skipped by key)."""

    @property
    def last(self) -> datetime | None:
        """The time of the last step replayed (None: the run had none)."""
        return self.steps[-1].at if self.steps else None


_Replayed = tuple[StepMark, datetime, list[Bar], list[str]]  # mark, time, bars, their keys


def _steps(
    run_id: uuid.UUID, events: Sequence[BarClosedEvent], marks: Sequence[StepMark]
) -> list[_Replayed]:
    by_time: dict[datetime, list[BarClosedEvent]] = {}
    for event in events:
        by_time.setdefault(event.timestamp, []).append(event)
    out = []
    for mark in marks:
        taken = by_time.get(mark.at, [])[: mark.bars]
        if len(taken) < mark.bars:
            raise RecoveryError(
                f"run {run_id}: step {mark.index} at {mark.at.isoformat()} ran on {mark.bars} "
                f"bar(s), the stream holds {len(taken)} (trimmed past its retention?); the "
                "session cannot be rebuilt"
            )
        assembler = StepAssembler()  # the runner's own ordering of a step's bars
        released = [step for event in taken for step in assembler.add(event)]
        # the events' own time (same instant as the mark's): the live steps carry the same kind
        ((now, bars),) = released + assembler.flush()
        out.append((mark, now, bars, [e.idempotency_key for e in taken]))
    return out


def _replay(session: PaperSession, steps: Sequence[_Replayed]) -> None:
    journal = session.loop.journal
    assert isinstance(journal, PostgresJournal)
    for mark, now, bars, _ in steps:
        if session.mode is not mark.mode:
            session.set_mode(mark.mode)
        session.on_bars(now, bars)
        if journal.failure is not None:  # the loop swallows a refused write: look for it here
            raise journal.failure


async def restore_session(recovery: Recovery) -> Restored:
    """The run's session as it stood after its last finished step (a fresh one when it has
    none), its journal out of recovering mode and ready to trade on.

    Raises:
        RecoveryError: the marks, the stream or a replayed decision disagree with the store.
        Exception: PostgreSQL (or Redis) could not be reached (`database_unreachable` says
            which); nothing was written, try again when it is back.
    """
    marks = await recovery.marks()
    journal = recovery.journal()
    journal.recovering = True
    session = recovery.build(journal)
    if session.loop.journal is not journal:
        raise RecoveryError("the session factory must give the session the journal it is handed")
    events = await recovery.history()
    steps = _steps(recovery.run_id, events, marks)
    try:
        await asyncio.to_thread(_replay, session, steps)
    except Exception as exc:
        cause = journal.failure or exc
        if database_unreachable(cause) or isinstance(cause, TimeoutError):
            raise cause from None
        raise RecoveryError(
            f"run {recovery.run_id}: rebuilding its session failed at step "
            f"{len(session.timeline)} of {len(steps)}: {cause}"
        ) from cause
    journal.recovering = False
    seen = frozenset(key for *_, keys in steps for key in keys)
    last = marks[-1].at if marks else None
    after = tuple(e for e in events if last is None or e.timestamp > last)
    return Restored(session, journal, tuple(m for m, *_ in steps), seen, after)
