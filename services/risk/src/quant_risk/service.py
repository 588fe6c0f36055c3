"""The risk service: the policy's breakers over the account's equity, for as long as it runs.

Every `poll_s` it reads, in one transaction holding the breakers' state row locked:
the policy in force, the breakers' state, and the equity points the running paper sessions
stored since the last one it took (the execution service records one after every step, before
the step's mark: ADR 0033). The account's equity at a step is the sum of each running
session's latest equity; a session that starts or stops shifts the breakers' reference points
by its equity instead of reading as a gain or a loss. Each point goes through the engine's
`Breakers` (the rules a backtest with the policy runs), and each trip that changes the
kill-switch mode is, in that same transaction, persisted (quant_db.controls, audited,
`via: risk`) with a critical alert naming the rule, the value and the limit; after the commit
the change is broadcast on the kill switch's channel, so the execution service applies it
before its next step (and reads the stored mode before every step in any case).

The state lives in PostgreSQL only, so a restart resumes where the last commit left off and a
latched drawdown stays latched; an admin's re-arm (API or CLI) resets it under the same lock.
While PostgreSQL is unreachable nothing is evaluated (the runners send nothing then either).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_bus.base import EventBus
from quant_bus.streams import KILL_SWITCH, KillSwitchChanged
from quant_db import controls, risk
from quant_db.schema import EquityPoint, Run
from quant_db.schema.runs import RunStatus, RunType
from quant_domain import ConfigError, KillSwitchMode, Timeframe
from quant_engine.breaker_watch import session_key
from quant_engine.breakers import RELEASE, Breakers, BreakerState, Trip, next_mode
from quant_engine.risk_policy import RiskPolicy
from quant_engine.sessions import session_calendar

log = logging.getLogger("quant.risk")

UNREACHABLE: tuple[type[BaseException], ...] = (OSError, SQLAlchemyError, TimeoutError)
HISTORY = 50
"""Trips kept in the stored state (the full history is in the audit log and the alerts)."""


@dataclass(frozen=True, slots=True)
class ModeChange:
    """A mode the breakers set, to broadcast once its transaction committed."""

    previous: KillSwitchMode
    mode: KillSwitchMode
    trip: Trip


@dataclass
class Health:
    """What the service says about itself (`quant risk run` prints it on stop)."""

    database_ok: bool = True
    last_error: str = ""
    points: int = 0  # equity points evaluated since the start
    changes: list[str] = field(default_factory=list)  # "<rule> -> <mode> at <time>"


def _daily(run: Run) -> bool:
    """The session's bars are daily or coarser (how ADR 0025 labels their sessions)."""
    try:
        return not Timeframe.parse(str(run.config.get("timeframe", "1d"))).is_intraday
    except ConfigError:  # a run stored without a readable timeframe: a daily bar's rules
        return True


class RiskService:
    """Evaluates the policy's breakers over the running paper sessions' equity."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], bus: EventBus, *, poll_s: float = 0.5
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self.poll_s = poll_s
        self.health = Health()
        self.ready = asyncio.Event()  # set after the first evaluation

    async def run(self, stop: asyncio.Event) -> None:
        """Evaluate every `poll_s` until `stop` is set."""
        while not stop.is_set():
            await self.evaluate()
            self.ready.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll_s)

    async def evaluate(self) -> list[ModeChange]:
        """Take the equity points stored since the last evaluation; the mode changes made."""
        try:
            async with self._sessions.begin() as db:
                changes = await self._evaluate(db)
        except UNREACHABLE as exc:
            if self.health.database_ok:
                log.error("PostgreSQL is unreachable: the breakers wait: %s", exc)
            self.health.database_ok = False
            self.health.last_error = str(exc)
            return []
        self.health.database_ok = True
        for change in changes:
            await self._broadcast(change)
        return changes

    async def _evaluate(self, db: AsyncSession) -> list[ModeChange]:
        row = await risk.risk_state(db, for_update=True)  # first: a re-arm waits for us
        version = await risk.policy_in_force(db)
        if version is None:
            return []
        policy = RiskPolicy.model_validate(version.policy)
        stored: dict[str, Any] = dict(row.state)
        state = BreakerState.from_json(stored.get("breakers", {}))
        books: dict[str, float] = dict(stored.get("books", {}))
        runs = {
            str(r.id): r
            for r in (
                await db.scalars(
                    select(Run).where(Run.type == RunType.PAPER, Run.status == RunStatus.RUNNING)
                )
            ).all()
        }
        for gone in [run_id for run_id in books if run_id not in runs]:
            _shift(state, -books.pop(gone))  # a closed book's equity leaves, not a loss
        query = (
            select(EquityPoint.run_id, EquityPoint.ts, EquityPoint.equity)
            .where(EquityPoint.run_id.in_([uuid.UUID(r) for r in runs]))
            .order_by(EquityPoint.ts, EquityPoint.run_id)
        )
        if state.at is not None:
            query = query.where(EquityPoint.ts > datetime.fromisoformat(state.at))
        points = (await db.execute(query)).all()
        limits = policy.account
        breakers = Breakers(limits.daily_loss_limit, limits.max_drawdown, state)
        calendar = session_calendar(limits.calendar)
        daily = all(_daily(r) for r in runs.values())
        changes: list[ModeChange] = []
        trips: list[dict[str, Any]] = list(stored.get("trips", []))
        k = 0
        while k < len(points):
            at = points[k].ts
            while k < len(points) and points[k].ts == at:
                run_id, equity = str(points[k].run_id), float(points[k].equity)
                if run_id not in books and state.session is not None:
                    _shift(state, equity)  # a new book's capital joins, not a gain
                books[run_id] = equity
                k += 1
            for trip in breakers.observe(at, sum(books.values()), session_key(calendar, at, daily)):
                trips.append(trip.to_json())
                change = await self._apply(db, trip, version.version)
                if change is not None:
                    changes.append(change)
            self.health.points += 1
        stored.update(
            breakers=state.to_json(),
            books=books,
            trips=trips[-HISTORY:],
            policy_version=version.version,
        )
        risk.save_state(row, stored)
        return changes

    async def _apply(self, db: AsyncSession, trip: Trip, version: int) -> ModeChange | None:
        """Persist and audit the mode `trip` asks for, with its alert, in this transaction."""
        switch = await controls.kill_switch(db, for_update=True)
        current = KillSwitchMode(switch.mode)
        mode = next_mode(current, trip)
        if trip.rule == RELEASE and switch.changed_by is not None:
            mode = None  # an admin chose this mode: only an admin lifts it
        message = trip.message()
        if mode is None:
            if trip.rule != RELEASE:
                risk.raise_alert(db, f"{message} (the kill switch is already {current.value})")
            return None
        await controls.set_kill_switch_mode(
            db,
            user=None,
            mode=mode,
            reason=f"risk policy v{version}: {message}",
            request_id=f"risk:{trip.rule}:{trip.at.isoformat()}",
            via="risk",
        )
        risk.raise_alert(db, f"kill switch {current.value} -> {mode.value}: {message}")
        self.health.changes.append(f"{trip.rule} -> {mode.value} at {trip.at.isoformat()}")
        log.warning("risk: kill switch %s -> %s: %s", current.value, mode.value, message)
        return ModeChange(current, mode, trip)

    async def _broadcast(self, change: ModeChange) -> None:
        """Announce a committed change; best effort, as the runners read the stored mode before
        every step anyway."""
        event = KillSwitchChanged(
            idempotency_key=f"risk:{change.trip.rule}:{change.trip.at.isoformat()}",
            mode=change.mode,
            previous=change.previous,
            changed_by=risk.SOURCE,
            reason=change.trip.message(),
            timestamp=datetime.now(UTC),
        )
        try:
            await self._bus.broadcast(KILL_SWITCH, event)
        except self._bus.unreachable as exc:
            log.warning("risk: mode change not broadcast (runners read it per step): %s", exc)

    def describe(self) -> dict[str, Any]:
        """The service's state for logs and the CLI."""
        return {
            "database_ok": self.health.database_ok,
            "last_error": self.health.last_error,
            "points": self.health.points,
            "changes": list(self.health.changes),
        }


def _shift(state: BreakerState, delta: float) -> None:
    """Move the breakers' reference points by `delta` (a book joined or left the account)."""
    state.equity += delta
    state.baseline += delta
    state.peak += delta
