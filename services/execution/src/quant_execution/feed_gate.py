"""The entry gate on the live feed's health: no new entry on a symbol whose live bars went quiet.

The data service's watchdog grades every subscribed symbol of a live feed and writes the grade
to `quant:feed_health:<feed>` (quant_bus.feed_health, ADR 0037). Before every step of a session
that trades a live feed, its `SymbolHold` reads that hash and tells the session's risk gate which
symbols are held: an order that opens, grows or flips a position in one is refused as
`FEED_STALE` (recorded like every gate refusal: a REJECTED order with its code and reason in
PostgreSQL, counted in `quant_risk_denials{rule="FEED_STALE"}`); exits and reductions pass.
Fail closed: no key, no field, a stale or unreadable field, or Redis unreachable hold every
entry. A replay feed has no health and is never held (ADR 0041 says how a feed's kind is known).

A rebuilt session replays its finished steps and must decide as it did, so while its journal
is recovering the hold answers from the refusals the run made (kept in memory, and read back
from the store when a run is taken up after a restart), not from the feed's health now.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_bus.feed_health import MAX_AGE, FeedHealth, entries_allowed, health_key, read_health
from quant_db.journal import PostgresJournal
from quant_db.outages import reason
from quant_db.schema import Order
from quant_domain import KillSwitchMode, ensure_utc
from quant_domain.time import utc_now
from quant_engine.paper import PaperSession
from quant_engine.risk_gate import Reason
from quant_engine.trading_loop import TradingLoop

log = logging.getLogger("quant.execution")

STALE = Reason.FEED_STALE.name
REPLAY = "replay"
"""The feed name `quant data replay` publishes under by default; `replay:<anything>` is a
replay too (what `quant trade` and the tests publish under)."""


class FeedKind(StrEnum):
    """Whether a feed's bars come live from a source (held on its health) or from a replay."""

    LIVE = "live"
    REPLAY = "replay"


def feed_kind(feed: str) -> FeedKind:
    """A feed's kind by its name: `replay` and `replay:*` are replays, any other name is live
    (fail closed: an unknown name must show its health before an entry leaves)."""
    return FeedKind.REPLAY if feed == REPLAY or feed.startswith(f"{REPLAY}:") else FeedKind.LIVE


def _stamp(at: datetime) -> str:
    return ensure_utc(at).strftime("%Y-%m-%d %H:%M:%S UTC")


class FeedGate:
    """The execution service's view of its feed: its kind, and where its health is read."""

    def __init__(
        self,
        feed: str,
        redis: Redis | None,
        *,
        kind: FeedKind | str | None = None,
        clock: Callable[[], datetime] = utc_now,
        max_age: timedelta = MAX_AGE,
        read_timeout: float = 2.0,
    ) -> None:
        """`redis` reads the health hash (None: it cannot be read, so a live feed holds every
        entry); `kind` overrides what the feed's name says; a read that takes longer than
        `read_timeout` seconds counts as unreadable (a step never waits on a hung server)."""
        self.feed = feed
        self.kind = FeedKind(kind) if kind else feed_kind(feed)
        self.redis = redis
        self._clock = clock
        self._max_age = max_age
        self._read_timeout = read_timeout
        self.holds: dict[uuid.UUID, SymbolHold] = {}  # by run: the sessions trading now

    # -- the execution service's hooks (each a no-op on a replay feed) -------------------------
    def attach(self, run_id: uuid.UUID, strategy_id: str, session: PaperSession) -> None:
        """Hold the entries of `session` (run `run_id`'s, new or rebuilt) on this feed's health."""
        if self.live:
            hold = self.holds.setdefault(run_id, SymbolHold(self, strategy_id))
            hold.strategy_id = strategy_id  # a recall before the rebuild did not know it
            hold.attach(session)

    def guard(
        self, run_id: uuid.UUID, read_mode: Callable[[], Awaitable[KillSwitchMode]]
    ) -> Callable[[], Awaitable[KillSwitchMode]]:
        """The runner's read before every step, followed by the refresh of run `run_id`'s hold
        (under the runner's lock, so the step that follows runs on what was just read)."""
        if not self.live:
            return read_mode

        async def mode() -> KillSwitchMode:
            switch = await read_mode()
            hold = self.holds.get(run_id)
            if hold is None:  # no session was built for the run: nothing to hold, nothing runs
                raise RuntimeError(f"run {run_id} has no session held on feed {self.feed!r}")
            await hold.refresh()
            return switch

        return mode

    async def recall(self, sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID) -> None:
        """Read back run `run_id`'s FEED_STALE refusals before its session is rebuilt."""
        if self.live:
            await self.holds.setdefault(run_id, SymbolHold(self, "")).recall(sessions, run_id)

    def forget(self, run_id: uuid.UUID) -> None:
        """The run stopped trading here."""
        self.holds.pop(run_id, None)

    @property
    def live(self) -> bool:
        return self.kind is FeedKind.LIVE

    async def held(self, symbols: Sequence[str]) -> dict[str, str]:
        """The symbols of `symbols` that may not take a new entry now, each with why."""
        if self.redis is None:
            why = "the feed's health cannot be read: the execution service has no Redis client"
            return dict.fromkeys(symbols, why)
        try:
            async with asyncio.timeout(self._read_timeout):
                healths = await read_health(self.redis, self.feed)
        except Exception as exc:  # whatever stops the read, no entry leaves on an unknown feed
            why = f"the feed's health could not be read from Redis ({reason(exc)})"
            return dict.fromkeys(symbols, why)
        now = self._clock()
        out: dict[str, str] = {}
        for symbol in symbols:
            if not entries_allowed(healths, symbol, now, self._max_age):
                out[symbol] = self._why(symbol, healths.get(symbol), now)
        return out

    def _why(self, symbol: str, health: FeedHealth | None, now: datetime) -> str:
        feed = f"live feed {self.feed!r}"
        if health is None:
            return (
                f"{feed} reports no health for {symbol} in {health_key(self.feed)} (is `quant "
                "data stream` running for it?)"
            )
        if health.state == "block":
            last = "no bar yet" if health.last_bar_at is None else _stamp(health.last_bar_at)
            return (
                f"{feed} has had no {symbol} bar for five intervals (last bar: {last}; held "
                f"since {_stamp(health.since)})"
            )
        age = (now - health.updated_at).total_seconds()
        return (
            f"{feed} last wrote {symbol}'s health {age:.0f} s ago (at most "
            f"{self._max_age.total_seconds():g} s are allowed: is the data service running?)"
        )


class SymbolHold:
    """One session's hold on new entries (quant_engine.risk_gate.EntryHold), refreshed from the
    feed's health before every step; shared by the sessions a rebuild makes of the same run."""

    def __init__(self, gate: FeedGate, strategy_id: str) -> None:
        self._gate = gate
        self.strategy_id = strategy_id
        self._loop: TradingLoop | None = None
        self._symbols: tuple[str, ...] = ()
        self._current: dict[str, str] | None = None  # None: not read yet, every symbol held
        self._refused: set[tuple[datetime, str]] = set()  # (step time, symbol) held by this run

    @property
    def current(self) -> dict[str, str]:
        """The symbols held for the coming step, with why."""
        if self._current is None:
            return dict.fromkeys(self._symbols, "the feed's health has not been read yet")
        return dict(self._current)

    def attach(self, session: PaperSession) -> None:
        """Hold `session`'s entries (its risk gate asks this hold from now on)."""
        loop = session.loop
        loop.gate.hold = self
        self._loop = loop
        self._symbols = loop.gate.limits.symbols

    async def recall(self, sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID) -> None:
        """Read back the run's FEED_STALE refusals (a run taken up after a restart replays its
        steps, which must refuse the same orders)."""
        async with sessions() as db:
            rows = await db.execute(
                select(Order.submitted_at, Order.symbol).where(
                    Order.run_id == run_id, Order.code == STALE
                )
            )
            self._refused.update((ensure_utc(at), symbol) for at, symbol in rows.all())

    async def refresh(self) -> None:
        """Read the feed's health for the coming step (never raises: an unreadable feed holds)."""
        held = await self._gate.held(self._symbols)
        before = self._current
        self._current = held
        if before is None or set(before) != set(held):
            released = sorted(set(before or self._symbols) - set(held))
            if held:
                log.warning(
                    "%s: no new entry in %s: %s",
                    self.strategy_id,
                    ", ".join(sorted(held)),
                    "; ".join(sorted(set(held.values()))),
                )
            if released and before is not None:
                log.info("%s: entries allowed again in %s", self.strategy_id, ", ".join(released))

    # -- quant_engine.risk_gate.EntryHold: asked on the order path, in the session's thread ----
    def holds(self, k: int) -> bool:
        loop = self._loop
        if loop is None:
            return True
        symbol = self._symbols[k]
        at = loop.now
        journal = loop.journal
        if isinstance(journal, PostgresJournal) and journal.recovering:
            return (at, symbol) in self._refused  # a replayed step decides as it did
        current = self._current
        if current is None or symbol in current:
            self._refused.add((at, symbol))
            return True
        return False

    def why(self, k: int) -> str:
        symbol = self._symbols[k]
        current = self._current
        if current is None:
            return "the feed's health has not been read yet"
        return current.get(symbol, f"{symbol} was held by live feed {self._gate.feed!r}")
