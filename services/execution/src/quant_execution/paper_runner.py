"""The paper runner: one strategy's PaperSession fed from `bars.closed`, orders written ahead.

Each batch the bus hands over is assembled into steps (quant_execution.steps); each complete
step runs through the session in a worker thread (the decision loop is synchronous), where the
PostgreSQL journal writes every order before the paper broker sees it, by running its store
calls on this event loop. The bus acknowledges a batch only after this handler returns, that is
after the step's orders and fills are committed.

The kill switch holds two ways: the persisted mode is read before every step (so it holds even
when a broadcast is lost, and after a restart), and `watch_kill_switch` applies a broadcast at
once, between bars (a flatten does not wait for the next bar).

With a `Recovery` (quant_execution.recovery) the runner also survives crashes and PostgreSQL
outages. Each finished step is marked in PostgreSQL, so `PaperRunner.resume` rebuilds the
session of a run that was killed and carries on with the bars the bus still holds for it. While
PostgreSQL is unreachable the handler does not return (no bar is acknowledged, no step runs, no
order is sent): it retries with a capped backoff, says so in the log and in `health`, and when
a step failed half-way because the journal could not write, the session is thrown away and
rebuilt from the store once PostgreSQL is back, then the step runs again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from quant_bus.base import Consumer, Delivery, EventBus
from quant_bus.streams import BARS_CLOSED, KILL_SWITCH, BarClosedEvent, KillSwitchChanged
from quant_db.journal import PostgresJournal
from quant_db.outages import database_unreachable, reason
from quant_domain import Bar, KillSwitchMode
from quant_engine import EngineRun
from quant_engine.paper import PaperSession
from quant_execution.recovery import Recovery, Restored, StepMark, restore_session
from quant_execution.steps import Step, StepAssembler

log = logging.getLogger("quant.execution")

T = TypeVar("T")


class RunnerStopped(Exception):
    """The runner was asked to stop while it waited for PostgreSQL: the step stays pending."""


@dataclass(slots=True)
class RunnerHealth:
    """What the runner can say about itself: PostgreSQL reachable, the last error, and how
    often the session was rebuilt (after a start on an existing run, or after an outage)."""

    database_ok: bool = True
    last_error: str = ""
    down_since: datetime | None = None
    restores: int = 0
    failed: str = ""  # set when the runner stopped for good (a mismatch, a bug): it sends nothing


def _outage(exc: BaseException, bus: EventBus) -> bool:
    """PostgreSQL (or, while rebuilding from the stream, Redis) cannot be reached right now."""
    return database_unreachable(exc) or isinstance(exc, (TimeoutError, *bus.unreachable))


class PaperRunner:
    """Runs `session` on the bars the bus delivers to consumer `name` of `group`."""

    def __init__(
        self,
        bus: EventBus,
        session: PaperSession,
        *,
        group: str,
        name: str,
        kill_switch: Callable[[], Awaitable[KillSwitchMode]] | None = None,
        source: str | None = None,
        symbols: Collection[str] | None = None,
        before_first_step: Callable[[datetime], Awaitable[None]] | None = None,
        after_step: Callable[[datetime], Awaitable[None]] | None = None,
        new_only: bool = False,
        recovery: Recovery | None = None,
        retry_cap: float = 5.0,
        **consumer: int,
    ) -> None:
        """`kill_switch` reads the persisted mode (quant_db.controls); it is read before every
        step, and while it cannot be read (PostgreSQL down) no step runs. `source` keeps the
        session to one feed's bars (a replay's own, say): others on the stream are acknowledged
        and left alone. `recovery` lets the runner mark its steps and rebuild its session (after
        a crash: `resume`; after an outage: by itself); without it a step the journal could not
        write stops the runner. `retry_cap` caps the wait between two tries, in seconds.
        `symbols` keeps each step to the session's universe (a feed may carry more); a step
        with none of them is skipped. `before_first_step(now)` runs once, before the first
        step (the service warms the strategy up on the stored history before `now` there);
        `after_step(now)` runs after each step, under the same lock (the service stores the
        equity point and carries out an admin's resolution). `new_only`: a new group starts at
        the stream's end (a session trading from now on)."""
        self.bus = bus
        self.session = session
        self.recovery = recovery
        self.health = RunnerHealth()
        self._read_mode = kill_switch
        self._source = source
        self._retry_cap = retry_cap
        self._symbols = None if symbols is None else frozenset(symbols)
        self._before_first_step = before_first_step
        self._after_step = after_step
        self.consumer = Consumer(BARS_CLOSED, group, name, new_only=new_only, **consumer)
        self.steps = StepAssembler()
        self.processed = 0  # steps run through the session (replayed ones included)
        self.skipped = 0  # bars of steps run before, handed out again
        self._done_keys: frozenset[str] = frozenset()
        self._done_until: datetime | None = None
        self._broken = False  # the session may disagree with the store: rebuild before a step
        self._fatal: BaseException | None = None
        self._stopping = asyncio.Event()
        self._ready: deque[Step] = deque()  # assembled, not run yet
        # a step and a broadcast mode change never run in the session at the same time
        self._one_at_a_time = asyncio.Lock()

    @classmethod
    async def resume(
        cls,
        bus: EventBus,
        recovery: Recovery,
        *,
        group: str,
        name: str,
        kill_switch: Callable[[], Awaitable[KillSwitchMode]] | None = None,
        source: str | None = None,
        retry_cap: float = 5.0,
        symbols: Collection[str] | None = None,
        before_first_step: Callable[[datetime], Awaitable[None]] | None = None,
        after_step: Callable[[datetime], Awaitable[None]] | None = None,
        **consumer: int,
    ) -> PaperRunner:
        """A runner for run `recovery.run_id`, its session rebuilt by `restore_session` (a new
        session when the run has no finished step; while PostgreSQL cannot be reached it keeps
        trying, with the same capped backoff). Consuming then starts with the group's pending
        entries (the bus drains them first); bars of replayed steps are skipped. The hooks are
        the constructor's; `before_first_step` runs only when no step had finished."""
        wait = 0.05
        while True:
            try:
                restored = await restore_session(recovery)
                break
            except Exception as exc:
                if not _outage(exc, bus):
                    raise
                log.warning("cannot rebuild run %s yet, retrying: %s", recovery.run_id, reason(exc))
            await asyncio.sleep(wait)
            wait = min(wait * 2, retry_cap)
        runner = cls(
            bus,
            restored.session,
            group=group,
            name=name,
            kill_switch=kill_switch,
            source=source,
            recovery=recovery,
            retry_cap=retry_cap,
            symbols=symbols,
            before_first_step=before_first_step if not restored.steps else None,
            after_step=after_step,
        )
        runner.consumer = Consumer(BARS_CLOSED, group, name, new_only=False, **consumer)
        runner._adopt(restored)
        for event in restored.after:
            runner._take(event)
        return runner

    def _adopt(self, restored: Restored) -> None:
        self.session = restored.session
        self.processed = len(restored.steps)
        self._done_keys = restored.seen
        self._done_until = restored.last
        self._broken = False
        if restored.steps:
            self.health.restores += 1
            log.info(
                "paper session rebuilt: %d step(s) replayed up to %s (run %s)",
                len(restored.steps),
                restored.last,
                self.recovery.run_id if self.recovery else "?",
            )

    # -- the bus handler ---------------------------------------------------------------------------
    async def handle(self, deliveries: Sequence[Delivery]) -> None:
        """The bus handler: assemble, then run each complete step (returns after its commits)."""
        self._check_alive()
        for delivery in deliveries:
            event = delivery.event
            assert isinstance(event, BarClosedEvent)  # the stream's bound type
            self._take(event)
        await self._run_ready()

    def _take(self, event: BarClosedEvent) -> None:
        if self._source is not None and event.source != self._source:
            return
        if event.idempotency_key in self._done_keys or (
            self._done_until is not None and event.timestamp <= self._done_until
        ):
            self.skipped += 1  # its step ran before the session was rebuilt
            return
        for now, step in self.steps.add(event):
            bars = step if self._symbols is None else [b for b in step if b.symbol in self._symbols]
            if bars:
                self._ready.append((now, bars))

    async def _run_ready(self) -> None:
        """Run the assembled steps in order; one leaves the queue only once it has run, so a
        step interrupted by a stop runs first when consuming starts again."""
        while self._ready:
            now, bars = self._ready[0]
            if self._before_first_step is not None:
                first, self._before_first_step = self._before_first_step, None
                await first(now)
            try:
                await self._step(now, bars)
            except RunnerStopped:
                raise
            except Exception as exc:
                self._stop_for_good(exc)
                raise
            self._ready.popleft()

    async def _step(self, now: datetime, bars: list[Bar]) -> None:
        """Run one step; on a journal outage, rebuild the session and run it again."""
        recovery = self.recovery
        while True:
            async with self._one_at_a_time:
                mode = None
                if self._read_mode is not None:
                    mode = await self._retrying("read the kill switch", self._read_mode)
                if self._broken:
                    await self._rebuild()
                ran_under = self.session.mode if mode is None else mode
                try:
                    if mode is not None:
                        await self._set_mode(mode)  # a flatten writes orders too
                    await asyncio.to_thread(self.session.on_bars, now, bars)
                    failure = self._journal_failure()
                except Exception as exc:
                    failure = self._journal_failure() or exc
                if failure is None:
                    # what the step leaves besides orders (the service's equity point) is
                    # stored before its mark: a step that is marked has all of it, and one
                    # killed before its mark runs again (the hook must be idempotent)
                    if self._after_step is not None:  # no mode change runs in the middle
                        await self._retrying("finish the step", partial(self._after_step, now))
                    if recovery is not None:
                        mark = StepMark(self.processed, now, len(bars), ran_under)
                        await self._retrying("mark the step", partial(recovery.mark, mark))
                    self.processed += 1
                    self._healthy()
                    return
                self._after_failure(failure, f"step at {now.isoformat()}")

    def _journal_failure(self) -> Exception | None:
        journal = self.session.loop.journal
        return journal.failure if isinstance(journal, PostgresJournal) else None

    def _after_failure(self, failure: BaseException, what: str) -> None:
        """The session failed half-way: rebuild it when PostgreSQL is back, or stop for good."""
        if not _outage(failure, self.bus):
            raise failure
        if self.recovery is None:
            raise RuntimeError(
                f"{what}: the journal could not write ({reason(failure)}) and this runner has "
                "no Recovery to rebuild its session from; stopping rather than trade on"
            ) from failure
        self._broken = True
        self._unhealthy(failure)
        log.warning(
            "%s failed half-way (%s): the session is thrown away and rebuilt when PostgreSQL "
            "is back",
            what,
            reason(failure),
        )

    async def _rebuild(self) -> None:
        assert self.recovery is not None
        recovery = self.recovery
        self._adopt(await self._retrying("rebuild the session", lambda: restore_session(recovery)))

    async def _retrying(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """`attempt()` until it succeeds, waiting between tries (doubling, at most retry_cap);
        a failure that is not an outage raises at once."""
        wait = 0.05
        while True:
            try:
                result = await attempt()
            except Exception as exc:
                if not _outage(exc, self.bus):
                    raise
                self._unhealthy(exc)
                log.warning("PostgreSQL unreachable, cannot %s; retrying: %s", what, reason(exc))
            else:
                if wait > 0.05:  # it had failed: the server is back
                    self._healthy()
                return result
            if self._stopping.is_set():
                raise RunnerStopped(f"stopped while waiting to {what}")
            await asyncio.sleep(wait)
            wait = min(wait * 2, self._retry_cap)

    def _unhealthy(self, exc: BaseException) -> None:
        if self.health.database_ok:
            self.health.down_since = datetime.now(UTC)
        self.health.database_ok = False
        self.health.last_error = reason(exc)

    def _healthy(self) -> None:
        if not self.health.database_ok:
            log.info("PostgreSQL is back; the session trades again")
            self.health.database_ok = True
            self.health.down_since = None

    def _stop_for_good(self, exc: BaseException) -> None:
        if self._fatal is None:
            self._fatal = exc
            self.health.failed = f"{type(exc).__name__}: {exc}"
            log.error("paper runner stopped; it sends nothing more: %s", exc)

    def _check_alive(self) -> None:
        if self._fatal is not None:
            raise RuntimeError("the paper runner has stopped") from self._fatal

    # -- the kill switch ---------------------------------------------------------------------------
    async def apply_mode(self, mode: KillSwitchMode) -> None:
        """Put the session in `mode` (flatten_and_halt closes everything at once). While the
        session waits to be rebuilt, the mode is left to the next step, which reads it."""
        async with self._one_at_a_time:
            if self._broken or self._fatal is not None:
                return
            try:
                await self._set_mode(mode)
                failure = self._journal_failure()
            except Exception as exc:
                failure = self._journal_failure() or exc
            if failure is not None:
                try:
                    self._after_failure(failure, f"kill-switch change to {mode.value}")
                except Exception as exc:
                    self._stop_for_good(exc)
                    raise

    async def _set_mode(self, mode: KillSwitchMode) -> None:
        if mode != self.session.mode:
            await asyncio.to_thread(self.session.set_mode, mode)

    async def watch_kill_switch(self, stop: asyncio.Event) -> None:
        """Apply each kill-switch broadcast as it arrives, until `stop` is set."""
        async with self.bus.subscribe(KILL_SWITCH) as changes:
            while not stop.is_set():
                change = await changes.get(timeout=0.1)
                if isinstance(change, KillSwitchChanged):
                    await self.apply_mode(change.mode)

    # -- consuming -----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set (the long-running service's way). Raises the error that
        stopped the runner for good (a replay that disagrees with the store, a bug); its bars
        stay pending on the stream."""
        await self._consume(stop, lambda: False)

    async def run_until(self, steps: int, timeout: float) -> None:
        """Consume until `steps` steps have run (a replay of known length), or fail after
        `timeout` seconds. A Redis outage meanwhile is ridden out by the bus (it retries, then
        drains its own pending entries first): no bar arrives, so no order is sent, and the
        session resumes by itself when the server is back; a PostgreSQL outage is ridden out
        by the handler (see the module's docstring)."""
        async with asyncio.timeout(timeout):
            await self._consume(asyncio.Event(), lambda: self.processed >= steps)

    async def _consume(self, stop: asyncio.Event, done: Callable[[], bool]) -> None:
        self._stopping.clear()
        await self._run_ready()  # a step a stop interrupted, or one a rebuild assembled
        inner = asyncio.Event()
        consuming = asyncio.create_task(self.bus.run(self.consumer, self.handle, inner))
        try:
            while not (done() or stop.is_set()):
                if self._fatal is not None:
                    break
                if consuming.done():
                    consuming.result()  # the bus itself failed: raise its error here
                    return
                await asyncio.sleep(0.002)
        finally:
            self._stopping.set()
            inner.set()
            await consuming
        if self._fatal is not None:
            raise self._fatal

    def close(self) -> EngineRun:
        """End the session (its last session ends, working orders are cancelled)."""
        return self.session.close()
