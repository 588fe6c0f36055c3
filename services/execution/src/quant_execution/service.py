"""The execution service: every strategy in PAPER mode trading on a feed's bars, for as long as
the process runs.

What `quant up` starts (and `quant execution run` alone). Every `poll_s` it reads which
strategies are in PAPER mode (the mode transitions the API records):

- a strategy that has moved to PAPER gets a paper session: a run of type `paper`, reconciled
  with its (paper) broker before its first order, then a PaperRunner of its own consumer group
  on `bars.closed`, reading only the bars published after it started (`new_only`). Before its
  first bar it is warmed up on the stored history before that bar, as a backtest with warm-up
  feeds the bars before its start;
- a strategy that has left PAPER stops at once: its runner stops between bars, its working
  orders are cancelled (recorded in PostgreSQL), its session is closed with its figures.

After a crash, a session on the simulator is rebuilt by replaying its steps (ADR 0032); one on a
real broker is taken up in the same run: its books from PostgreSQL, its orders in doubt looked
up at the broker by client order id, never sent again, the account reconciled with every
session's books before it trades on (ADR 0042, quant_execution.restart).

The kill switch reaches every runner two ways: one subscription forwards each broadcast to all
of them at once (a flatten does not wait for the next bar), and each runner reads the persisted
mode before every step. The service fails closed: while PostgreSQL cannot be read, no session
starts and the runners, whose every step begins with a database read and writes each order
down before sending it, send nothing; it logs the outage, reports it in `health`, and carries
on once the server is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import ValidationError
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_bus.base import EventBus
from quant_bus.streams import KILL_SWITCH, BarClosedEvent, KillSwitchChanged
from quant_db import controls, risk
from quant_db.schema import Run, Strategy
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_domain import BrokerUnavailable, ConfigError, KillSwitchMode, OrderError
from quant_domain.ports import LiveBroker, OrderJournal
from quant_engine import BacktestConfig
from quant_engine.account import Allocation, allocate, book_config, summarise
from quant_engine.broker_session import BrokerSession
from quant_engine.paper import PaperSession
from quant_engine.reconciliation import Reconciliation, ReconciliationState
from quant_engine.risk_policy import RiskPolicy
from quant_execution.broker_watch import BrokerWatch
from quant_execution.brokers import (
    SIM,
    BrokerFactory,
    BrokerRefused,
    broker_kind,
    build_broker,
    first_live_start,
    open_broker,
)
from quant_execution.feed_gate import FeedGate, FeedKind
from quant_execution.paper_runner import PaperRunner
from quant_execution.paper_sessions import (
    close_paper_session,
    open_paper_session,
    reconcile_at_start,
    record_step,
)
from quant_execution.recovery import (
    Recovery,
    RecoveryError,
    StreamReader,
    group_position,
    stream_history,
)
from quant_execution.resolution import carry_out, recover_missed
from quant_execution.restart import mark_taken_up, other_books, take_up
from quant_execution.step_metrics import StepMetrics
from quant_execution.steps import Step
from quant_marketdata import DataSource
from quant_marketdata.base import run_calendar
from quant_marketdata.replay import replay_steps
from quant_models.predictor import load_models
from quant_strategy import Strategy as QuantStrategy
from quant_strategy import StrategyConfig, build_strategy
from quant_strategy.predictors import Predictor, providing
from quant_telemetry import log_context

log = logging.getLogger("quant.execution")
T = TypeVar("T")
FEED_START = "feed_start"
"""runs.repro key: the stream entry a paper session's feed begins after."""

TRADED = (Mode.PAPER, Mode.LIVE)
"""The modes the service runs a session for (LIVE only on a real broker)."""

# what "PostgreSQL is away" looks like from here: the driver's and SQLAlchemy's errors
UNREACHABLE: tuple[type[BaseException], ...] = (OSError, SQLAlchemyError, TimeoutError)


def _with_models(config: StrategyConfig, predictors: dict[str, Predictor]) -> QuantStrategy[Any]:
    """The strategy `config` names, initialised with its registry models provided."""
    with providing(predictors):
        return build_strategy(config)


class _NotTrading(Exception):
    """A strategy may not trade now (its refusal is logged and kept in `refused`)."""


@dataclass
class Trading:
    """One strategy's paper session while the service runs it."""

    strategy_id: str
    config: StrategyConfig
    run_id: uuid.UUID
    runner: PaperRunner
    stop: asyncio.Event
    task: asyncio.Task[None]
    mode: Mode = Mode.PAPER
    broker: LiveBroker | None = None  # the runner's own adapter (None: the simulated broker)

    @property
    def session(self) -> PaperSession:
        """The session now (the runner replaces it when it rebuilds after an outage)."""
        return self.runner.session


def _share(allocation: Allocation, strategy_id: str) -> float:
    """The book's part of the account: its budget over the account's capital (ADR 0043)."""
    return float(allocation.budgets[strategy_id] / allocation.capital)


def _warm(session: PaperSession, steps: list[Step]) -> None:
    for at, bars in steps:
        session.warm_up(at, bars)


@dataclass
class Health:
    """What the service says about itself (logged, and shown by `quant execution run`)."""

    database_ok: bool = True
    last_error: str = ""
    started: int = 0  # sessions opened since the service started
    stopped: int = 0  # sessions closed (their strategy left PAPER, or the service stopped)
    failed: list[str] = field(default_factory=list)  # "<strategy>: <error>"


class ExecutionService:
    """Runs a paper session for each strategy in PAPER mode on the bars of `feed`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        data: DataSource,
        *,
        feed: str,
        account: str = "paper",
        name: str = "execution-1",
        poll_s: float = 1.0,
        settings: BacktestConfig | None = None,
        block_ms: int = 1_000,
        stream: StreamReader | None = None,
        broker: str | None = None,
        broker_factory: BrokerFactory = build_broker,
        settle_s: float = 5.0,
        connect_timeout: float = 10.0,
        announce: Callable[[str], None] | None = None,
        feed_health: Redis | None = None,
        feed_kind: FeedKind | str | None = None,
        lookup_s: float = 20.0,
    ) -> None:
        """`data` gives instruments, calendars and the stored history warm-up reads (the
        database in production); `feed` is the `source` of the bars to trade on (the data
        service's `--feed`); `settings` are the account's capital, costs and fill rules (the
        defaults a backtest uses unless given); `block_ms` is how long a consumer's read waits
        for new bars (tests use short waits); `stream` reads the feed's history back (a Redis
        client), which rebuilding a session after a crash or an outage needs. `broker` is the
        kind the account trades through (default: what QUANT_ACCOUNT_BROKERS names for it, else
        `sim`); `broker_factory` builds a runner's adapter for another kind (quant_execution.
        brokers); `settle_s` bounds a step's wait for its orders' answers; `announce` is told
        (besides the log) the account, endpoint and limits of a strategy's first live start;
        `lookup_s` bounds the wait for the broker's answers on the orders a session on a real
        broker left in doubt when it is taken up after a restart (ADR 0042).
        On a live feed (`feed_kind`, by default what the feed's name says) no new entry leaves
        unless `feed_health` (a Redis client) shows the symbol's feed healthy (ADR 0041)."""
        self._sessions = sessions
        self._bus = bus
        self._data = data
        self._data_lock = asyncio.Lock()  # a DataSource is not made for concurrent reads
        self.feed = feed
        self.account = account
        self.name = name
        self.poll_s = poll_s
        self._block_ms = block_ms
        self._stream = stream
        self.trading: dict[str, Trading] = {}
        self.health = Health()
        self.settings = settings or BacktestConfig()
        self.capital = self.settings.initial_capital
        self.allocation: Allocation | None = None
        # strategies in PAPER mode that may not trade (bad config, budget does not fit), why
        self.refused: dict[str, str] = {}
        self.ready = asyncio.Event()  # set once start-up is done and the first sync has run
        self.broker = broker or broker_kind(account)
        self._broker_factory = broker_factory
        self._settle_s = settle_s
        self._connect_timeout = connect_timeout
        self._announce = announce
        self._lookup_s = lookup_s
        self._refused_in: dict[str, Mode] = {}  # the mode a strategy was refused in
        # a real broker's run a killed service left RUNNING, by strategy, with the mode it ran
        # in: taken up by the next sync (and the ones after, while the broker cannot be reached)
        self._to_take_up: dict[str, tuple[uuid.UUID, Mode]] = {}
        # a session that cannot start for these is tried again at the next sync
        self._retried: tuple[type[BaseException], ...] = (
            *UNREACHABLE,
            *bus.unreachable,
            BrokerUnavailable,
        )
        self._watch = BrokerWatch(sessions, account, settle_s)
        self.step_metrics = StepMetrics()  # order counts and book figures, after each step
        self.feed_gate = FeedGate(feed, feed_health, kind=feed_kind)

    # -- the service's life ------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Follow the strategies' modes until `stop` is set, then close every session."""
        await self._resume_abandoned()
        watcher = asyncio.create_task(self._forward_kill_switch(stop))
        try:
            while not stop.is_set():
                await self.sync()
                self.ready.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_s)
        finally:
            stop.set()
            for strategy_id in list(self.trading):
                await self._stop_trading(strategy_id, "the execution service stopped")
            await watcher

    async def sync(self) -> None:
        """Start a session for each strategy newly in PAPER mode, stop those that left it, and
        collect runners that failed."""
        for strategy_id, trading in list(self.trading.items()):
            if trading.task.done():
                await self._failed(strategy_id, trading)
            elif trading.broker is not None:
                await self._watch.link(strategy_id, trading.run_id, trading.broker)
        try:
            async with self._sessions() as db:
                rows = (await db.scalars(select(Strategy).where(Strategy.mode.in_(TRADED)))).all()
        except UNREACHABLE as exc:
            self._database_down(exc)
            return
        if not self.health.database_ok:
            log.warning("PostgreSQL is back: the execution service carries on")
        self.health.database_ok = True
        paper = {row.id: row for row in rows}
        for strategy_id, trading in list(self.trading.items()):
            row = paper.get(strategy_id)
            if row is None or row.mode is not trading.mode:
                await self._stop_trading(
                    strategy_id, f"its strategy left {trading.mode.value.upper()} mode"
                )
        for strategy_id in list(self.refused):
            row = paper.get(strategy_id)
            if row is None or row.mode is not self._refused_in.get(strategy_id, row.mode):
                del self.refused[strategy_id]  # its mode changed: it may be tried again
        await self._forget_take_ups(paper)
        for strategy_id, row in paper.items():
            if strategy_id not in self.trading and strategy_id not in self.refused:
                taken = self._to_take_up.get(strategy_id)
                await self._start_trading(row, resume=None if taken is None else taken[0])

    async def _forget_take_ups(self, traded: dict[str, Strategy]) -> None:
        """A run waiting to be taken up whose strategy left the run's mode ends as FAILED."""
        for strategy_id, (run_id, mode) in list(self._to_take_up.items()):
            row = traded.get(strategy_id)
            if row is None or row.mode is not mode:
                del self._to_take_up[strategy_id]
                await self._end_run(
                    run_id,
                    "interrupted: its strategy left its mode before its session was taken up",
                )

    def _database_down(self, exc: BaseException) -> None:
        if self.health.database_ok:
            log.error("PostgreSQL is unreachable: no session starts, no order is sent: %s", exc)
        self.health.database_ok = False
        self.health.last_error = str(exc)

    # -- one strategy ------------------------------------------------------------------------------
    async def _start_trading(self, row: Strategy, resume: uuid.UUID | None = None) -> None:
        """Open a paper session for `row` (or, with `resume`, rebuild that run's session as it
        stood after its last finished step: ADR 0032) and start its runner."""
        try:
            (live, own, config, start, allocation, run_id), predictors = await self._open_with(
                row, resume
            )
        except _NotTrading:
            return
        calendar, instruments = await self._read(
            lambda: (
                run_calendar(self._data, config.universe),
                {s: self._data.instrument(s) for s in config.universe},
            )
        )
        settings = book_config(self._settings(config), allocation.budgets[row.id])
        warm: list[Step] = []  # the stored bars the strategy was warmed up on

        def build(journal: OrderJournal) -> PaperSession:
            """The session as it stands before its first step (a rebuild starts here too)."""
            strategy = _with_models(config, predictors)
            daily = not config.parsed_timeframe.is_intraday
            session = (
                PaperSession(
                    strategy,
                    settings,
                    calendar=calendar,
                    daily=daily,
                    account=self.account,
                    instruments=instruments,
                    journal=journal,
                )
                if live is None
                else BrokerSession(
                    strategy,
                    settings,
                    live,
                    calendar=calendar,
                    daily=daily,
                    account=self.account,
                    instruments=instruments,
                    journal=journal,
                    settle_s=self._settle_s,
                )
            )
            if isinstance(session, BrokerSession):  # the account may be shared: ADR 0042
                session.others = other_books(
                    self._sessions, self.account, self.broker, run_id, self._settle_s + 5
                )
            _warm(session, warm)
            self.feed_gate.attach(run_id, row.id, session)  # entries held on a stale live feed
            return session

        recovery = Recovery(self._sessions, run_id, build, self._history(run_id))
        strategy_warmup = build_strategy(config).warmup_bars

        async def warm_up(now: datetime) -> None:
            warm.extend(await self._warm_steps(config, strategy_warmup, now))
            await asyncio.to_thread(_warm, runner.session, warm)

        async def after_step(now: datetime) -> None:
            session = runner.session  # a rebuild after an outage replaces it
            if isinstance(session, BrokerSession):
                await self._watch.after_step(row.id, run_id, session)
            await record_step(self._sessions, run_id, now, session.last_point(), session.marks())
            self.step_metrics.observe(row.id, run_id, session)  # after the step, not inside it
            check = session.loop.reconciliation
            if check is None or check.state is not ReconciliationState.CLEAN:
                # an admin's adopt or flatten, once decided, is carried out between bars
                await carry_out(
                    self._sessions,
                    self.account,
                    run_id,
                    session,
                    broker=self.broker if isinstance(session, BrokerSession) else None,
                )

        mode = self.feed_gate.guard(
            run_id,
            self._mode_reader(own, start, lambda: runner.session, _share(allocation, row.id)),
        )

        hooks: dict[str, Any] = {
            "group": f"paper-{run_id}",
            "name": self.name,
            "kill_switch": mode,
            "source": self.feed,
            "symbols": config.universe,
            "before_first_step": warm_up,
            "after_step": after_step,
        }
        try:
            runner, outcome = await self._open_runner(
                run_id,
                resume,
                recovery,
                build,
                lambda at: self._warm_steps(config, strategy_warmup, at),
                warm,
                hooks,
                rebuildable=live is None,
            )
        except RecoveryError as exc:
            self._to_take_up.pop(row.id, None)
            self._refuse(row, f"its session {run_id} could not be rebuilt: {exc}")
            await self._end_run(run_id, f"could not be rebuilt: {exc}")
            await self._disconnect(live)
            return
        except self._retried as exc:
            log.error("%s: could not start its session, retrying: %s", row.id, exc)
            if resume is None:
                await self._end_run(run_id, f"could not start: {exc}")
            await self._disconnect(live)
            return
        if outcome.state.value != "clean":
            log.warning(
                "%s: reconciliation is %s: every order is refused until an admin resolves it",
                row.id,
                outcome.state.value,
            )
        self._trade(row, config, run_id, runner, live, resumed=resume is not None)

    def _trade(
        self,
        row: Strategy,
        config: StrategyConfig,
        run_id: uuid.UUID,
        runner: PaperRunner,
        live: LiveBroker | None,
        *,
        resumed: bool,
    ) -> None:
        """Start the session's runner and count it as trading."""
        stop = asyncio.Event()
        # the task copies the context: every line its runner logs names the strategy and run
        with log_context(strategy_id=row.id, run_id=str(run_id)):
            task = asyncio.create_task(runner.run(stop), name=f"paper {row.id}")
        self.trading[row.id] = Trading(
            row.id, config, run_id, runner, stop, task, mode=row.mode, broker=live
        )
        self._to_take_up.pop(row.id, None)
        self.health.started += 1
        log.info(
            "%s %s %s on %s (session %s, feed %s)",
            row.id,
            f"resumes after {runner.processed} step(s)" if resumed else "trades",
            row.mode.value,
            self.broker,
            run_id,
            self.feed,
        )

    async def _open_run(
        self, row: Strategy, resume: uuid.UUID | None
    ) -> tuple[
        LiveBroker | None, StrategyConfig, StrategyConfig, int | None, Allocation, uuid.UUID
    ]:
        """Connect the strategy's broker, admit it to the account, put it under the risk policy
        in force, open (or take up) its run: (broker, its own config, the config it trades
        under, the policy version, the allocation, the run). Raises _NotTrading when any of it
        is refused (nothing is left connected or open)."""
        live = await self._connect(row)
        admitted = self._admit(row)
        if admitted is None:
            await self._disconnect(live)
            raise _NotTrading
        own, allocation = admitted  # own caps: a later risk policy tightens from these
        try:
            config, start = await self._under_policy(own, resume, _share(allocation, own.id))
            first_live = row.mode is Mode.LIVE and await first_live_start(self._sessions, row.id)
            run_id = resume or await open_paper_session(
                self._sessions,
                row.id,
                config.model_dump(mode="json", by_alias=True),
                mode=row.mode,
                repro={"account": self.account, "broker": self.broker},
            )
        except UNREACHABLE as exc:
            self._database_down(exc)
            await self._disconnect(live)
            raise _NotTrading from exc
        except ConfigError as exc:  # its part of the account's limits is nothing (ADR 0043)
            self._refuse(row, f"under the risk policy in force: {exc}")
            await self._disconnect(live)
            raise _NotTrading from exc
        if first_live and live is not None:
            await self._first_live(row.id, config, live)
        return live, own, config, start, allocation, run_id

    async def _connect(self, row: Strategy) -> LiveBroker | None:
        """The strategy's own connected adapter (None on `sim`); raises _NotTrading when it may
        not trade: LIVE on `sim`, or an adapter that cannot be built or reached (`refused` says
        why), or PostgreSQL is away."""
        if self.broker == SIM:
            if row.mode is Mode.LIVE:
                self._refuse(
                    row,
                    f"LIVE trades only through a real broker, and account {self.account!r} is on "
                    "`sim` (name its broker in QUANT_ACCOUNT_BROKERS or --broker)",
                )
                raise _NotTrading
            return None
        try:
            return await open_broker(
                self._sessions,
                self._broker_factory,
                self.broker,
                self.account,
                f"{self.name}/{row.id}",
                self._connect_timeout,
            )
        except BrokerRefused as exc:
            self._refuse(row, str(exc))
            await self._watch.alert("critical", f"{row.id} does not trade: {exc}", row.id)
        except UNREACHABLE as exc:
            self._database_down(exc)
        raise _NotTrading

    async def _open_with(
        self, row: Strategy, resume: uuid.UUID | None
    ) -> tuple[
        tuple[LiveBroker | None, StrategyConfig, StrategyConfig, int | None, Allocation, uuid.UUID],
        dict[str, Predictor],
    ]:
        """_open_run's parts, and the registry models the strategy reads."""
        opened = await self._open_run(row, resume)
        return opened, await self._predictors(row, opened[2], opened[0])

    async def _predictors(
        self, row: Strategy, config: StrategyConfig, live: LiveBroker | None
    ) -> dict[str, Predictor]:
        """The registry models `config` names, artifact checksums verified (ADR 0052). Raises
        _NotTrading, the strategy refused and its broker let go, when one cannot be loaded."""
        try:
            async with self._sessions() as db:
                loaded = await load_models(db, config)
        except ConfigError as exc:
            self._refuse(row, f"its model cannot be loaded: {exc}")
            await self._disconnect(live)
            raise _NotTrading from exc
        return {reference: model.predictor for reference, model in loaded.items()}

    def _refuse(self, row: Strategy, why: str) -> None:
        self.refused[row.id] = why
        self._refused_in[row.id] = row.mode
        log.error("%s stays out of %s trading: %s", row.id, row.mode.value, why)

    async def _disconnect(self, live: LiveBroker | None) -> None:
        if live is None:
            return
        try:
            await asyncio.to_thread(live.close)
        except Exception as exc:  # closing a link that is already gone
            log.warning("closing the %s link failed: %r", self.broker, exc)

    async def _first_live(self, strategy_id: str, config: StrategyConfig, live: LiveBroker) -> None:
        """The first live start of a strategy says where its orders go and under which limits
        (never a key)."""
        account = await asyncio.to_thread(live.summary)
        limits = config.risk.model_dump(mode="json", exclude_none=True)
        message = (
            f"{strategy_id} goes LIVE for the first time: broker {account.broker}, account "
            f"{account.account_id} ({'paper' if account.paper else 'REAL MONEY'}), endpoint "
            f"{account.endpoint}, budget {config.budget or 'the whole account'}, limits "
            f"{limits}"
        )
        log.warning("%s", message)
        if self._announce is not None:
            self._announce(message)

    def _admit(self, row: Strategy) -> tuple[StrategyConfig, Allocation] | None:
        """The strategy's config and the account's allocation with it, or None (it is refused,
        and `refused` says why) when its config is invalid or its budget does not fit beside
        the books already trading (ADR 0030)."""
        try:
            config = StrategyConfig.model_validate(row.config)
            allocation = allocate(
                self.account, self.capital, [*(t.config for t in self.trading.values()), config]
            )
        except (ValidationError, ConfigError) as exc:
            self._refuse(row, str(exc))
            return None
        self.allocation = allocation
        return config, allocation

    async def _open_runner(
        self,
        run_id: uuid.UUID,
        resume: uuid.UUID | None,
        recovery: Recovery,
        build: Callable[[OrderJournal], PaperSession],
        warm_steps: Callable[[datetime], Awaitable[list[Step]]],
        warm: list[Step],
        hooks: dict[str, Any],
        *,
        rebuildable: bool = True,
    ) -> tuple[PaperRunner, Reconciliation]:
        """A runner for a new session, or for the rebuilt one of run `resume`, reconciled.

        Not `rebuildable` (a session on a real broker): rebuilding replays the steps' orders,
        which a real broker must not see again, so its runner gets no Recovery and stops on a
        journal outage instead (the strategy is refused until it leaves its mode: fail closed)."""
        rebuilt = False
        if resume is not None and not rebuildable:  # a real broker's session: taken up
            return await self._take_up(run_id, recovery, build, hooks)
        if resume is None:
            runner = PaperRunner(
                self._bus,
                build(recovery.journal()),
                recovery=recovery if rebuildable else None,
                new_only=True,
                block_ms=self._block_ms,
                **hooks,
            )
            # the group exists before the session is announced (its reconciliation row), so
            # no bar published from then on is missed
            await self._bus.join(runner.consumer)
            await self._remember_feed_start(run_id, runner.consumer.group)
        else:
            await self.feed_gate.recall(self._sessions, run_id)  # its replay refuses as it did
            marks = await recovery.marks()
            if marks:  # it was warmed up before its first step: on the same stored bars
                warm.extend(await warm_steps(marks[0].at))
                rebuilt = True
            runner = await PaperRunner.resume(self._bus, recovery, block_ms=self._block_ms, **hooks)
        if not rebuilt:  # a rebuild is its own recovery: every replayed write matched the store
            await recover_missed(self._sessions, run_id, runner.session)
        outcome = await reconcile_at_start(
            self._sessions,
            run_id,
            self.account,
            runner.session,
            rebuilt=rebuilt,
            broker=None if rebuildable else self.broker,
        )
        return runner, outcome

    async def _take_up(
        self,
        run_id: uuid.UUID,
        recovery: Recovery,
        build: Callable[[OrderJournal], PaperSession],
        hooks: dict[str, Any],
    ) -> tuple[PaperRunner, Reconciliation]:
        """The session of run `run_id` on a real broker, left RUNNING by a killed service, taken
        up in the same run (ADR 0042): its books restored from PostgreSQL, every order in doubt
        looked up at the broker by its client order id (never sent again), then the account
        reconciled with every session's books. It trades from the next bar published (a new
        consumer group: bars that closed while the service was down are not traded late)."""
        session = build(recovery.journal())
        assert isinstance(session, BrokerSession)
        takes = await mark_taken_up(self._sessions, run_id)
        runner = PaperRunner(
            self._bus,
            session,
            new_only=True,
            block_ms=self._block_ms,
            **{**hooks, "group": f"paper-{run_id}-up{takes}"},
        )
        await self._bus.join(runner.consumer)
        try:
            late = await take_up(self._sessions, run_id, session, wait_s=self._lookup_s)
        except (OrderError, ValueError) as exc:  # the stored books do not add up: a person looks
            raise RecoveryError(f"its stored orders and fills cannot be taken in: {exc}") from exc
        if late:
            log.warning("%s: the broker did not answer on %s in time", run_id, ", ".join(late))
        outcome = await reconcile_at_start(
            self._sessions, run_id, self.account, session, broker=self.broker
        )
        return runner, outcome

    async def _remember_feed_start(self, run_id: uuid.UUID, group: str) -> None:
        """Store where the run's feed begins on the stream (its group's starting entry), so a
        rebuild reads only the run's own bars, not an earlier publication under the feed name."""
        if self._stream is None:
            return
        start = await group_position(self._stream, group)
        async with self._sessions.begin() as db:
            run = await db.get(Run, run_id)
            assert run is not None
            run.repro = {**run.repro, FEED_START: start}

    def _history(self, run_id: uuid.UUID) -> Callable[[], Awaitable[list[BarClosedEvent]]]:
        async def history() -> list[BarClosedEvent]:
            if self._stream is None:
                raise RecoveryError("no stream reader was given: sessions cannot be rebuilt")
            async with self._sessions() as db:
                run = await db.get(Run, run_id)
            start = None if run is None else run.repro.get(FEED_START)
            if start is None:
                raise RecoveryError(f"run {run_id} never recorded where its feed begins")
            return await stream_history(
                self._stream, self.feed, group=f"paper-{run_id}", after=str(start)
            )

        return history

    async def _warm_steps(self, config: StrategyConfig, bars: int, now: datetime) -> list[Step]:
        """The last `bars` stored steps of the strategy's universe before `now`: what it is
        warmed up on (nothing trades), so its indicators stand where a backtest's would."""
        if bars <= 0:
            return []
        timeframe = config.parsed_timeframe
        # enough calendar time for `bars` bars with weekends and holidays, read in one go
        since = now - timeframe.delta * bars * 2 - timedelta(days=10)
        frames = await self._read(
            lambda: {
                s: self._data.get_bars(s, since, now - timedelta(microseconds=1), timeframe)
                for s in config.universe
            }
        )
        steps = list(replay_steps({s: f for s, f in frames.items() if not f.empty}))[-bars:]
        log.info("%s warmed up on %d stored steps before %s", config.id, len(steps), now)
        return steps

    async def _read(self, read: Callable[[], T]) -> T:
        """Run a (blocking) read of the data source in a worker thread, one at a time."""
        async with self._data_lock:
            return await asyncio.to_thread(read)

    async def _stop_trading(self, strategy_id: str, why: str) -> None:
        """Stop the runner between bars, cancel working orders, close the session's run."""
        trading = self.trading[strategy_id]
        trading.stop.set()
        try:
            await trading.task
        except Exception as exc:
            log.error("%s: its runner had failed: %r", strategy_id, exc)
        result = None
        if trading.session.timeline.times:
            result = await asyncio.to_thread(trading.runner.close)  # cancels working orders
        await self._disconnect(trading.broker)
        self._watch.forget(strategy_id)
        self.feed_gate.forget(trading.run_id)
        try:
            await close_paper_session(self._sessions, trading.run_id, result, message=why)
        except UNREACHABLE as exc:
            self._database_down(exc)
        del self.trading[strategy_id]
        self.health.stopped += 1
        log.info("%s stopped trading (%s): %s", strategy_id, trading.mode.value, why)

    async def _failed(self, strategy_id: str, trading: Trading) -> None:
        """A runner stopped by itself (its handler raised): the session ends as FAILED and the
        strategy is not restarted until it leaves PAPER and comes back (an error there needs a
        person)."""
        self.trading.pop(strategy_id)
        self.feed_gate.forget(trading.run_id)
        await self._disconnect(trading.broker)
        error = repr(trading.task.exception()) if not trading.task.cancelled() else "cancelled"
        self.health.failed.append(f"{strategy_id}: {error}")
        self.refused[strategy_id] = f"its {trading.mode.value} session failed: {error}"
        self._refused_in[strategy_id] = trading.mode
        log.error("%s: its paper session failed and stopped: %s", strategy_id, error)
        await self._end_run(trading.run_id, error)

    async def _end_run(self, run_id: uuid.UUID, error: str) -> None:
        """Mark a session's run FAILED with `error` (best effort: PostgreSQL may be the cause)."""
        try:
            async with self._sessions.begin() as db:
                run = await db.get(Run, run_id)
                if run is not None:
                    run.status = RunStatus.FAILED
                    run.error = error
                    run.finished_at = datetime.now(UTC)
        except UNREACHABLE as exc:
            self._database_down(exc)

    async def _resume_abandoned(self) -> None:
        """Paper runs a previous process left RUNNING (it was killed): a strategy still in
        PAPER mode gets its session rebuilt from its step marks and the stream, and trades on
        from there (ADR 0032); the others end as FAILED, saying so (their orders and fills stay
        stored)."""
        try:
            async with self._sessions() as db:
                runs = (
                    await db.scalars(
                        select(Run)
                        .where(
                            Run.type.in_((RunType.PAPER, RunType.LIVE)),
                            Run.status == RunStatus.RUNNING,
                        )
                        .order_by(Run.created_at)
                    )
                ).all()
                paper = {
                    row.id: row
                    for row in (
                        await db.scalars(select(Strategy).where(Strategy.mode.in_(TRADED)))
                    ).all()
                }
        except UNREACHABLE as exc:
            self._database_down(exc)
            return
        for run in runs:
            if run.strategy_id is None:  # a training run (ADR 0053) has no session to resume
                continue
            row = paper.get(run.strategy_id)
            on_sim = run.repro.get("broker", SIM) == SIM and run.type is RunType.PAPER
            if not on_sim:  # replaying its steps would send its orders to the broker again
                mode = Mode.LIVE if run.type is RunType.LIVE else Mode.PAPER
                ours = (run.repro.get("account"), run.repro.get("broker")) == (
                    self.account,
                    self.broker,
                )
                if row is not None and row.mode is mode and ours and row.id not in self.trading:
                    self._to_take_up[row.id] = (run.id, mode)  # by the first sync: ADR 0042
                else:
                    await self._end_run(
                        run.id,
                        "interrupted: its strategy left its mode or its account moved while the "
                        "execution service was down",
                    )
            elif row is not None and row.id not in self.trading and self._stream is not None:
                await self._start_trading(row, resume=run.id)
            else:
                await self._end_run(
                    run.id, "interrupted: the execution service stopped without closing it"
                )

    async def _forward_kill_switch(self, stop: asyncio.Event) -> None:
        """Apply each kill-switch broadcast to every running session at once."""
        while not stop.is_set():
            try:
                async with self._bus.subscribe(KILL_SWITCH) as changes:
                    while not stop.is_set():
                        change = await changes.get(timeout=0.1)
                        if isinstance(change, KillSwitchChanged):
                            for trading in list(self.trading.values()):
                                await trading.runner.apply_mode(change.mode)
            except self._bus.unreachable as exc:  # the runners still read the mode per step
                log.warning("kill-switch broadcasts unreachable, retrying: %s", exc)
                await asyncio.sleep(0.5)

    def _mode_reader(
        self,
        own: StrategyConfig,
        start: int | None,
        session: Callable[[], PaperSession],
        share: float = 1.0,
    ) -> Callable[[], Awaitable[KillSwitchMode]]:
        """The runner's read before every step: the kill-switch mode; and a risk policy changed
        since `session()` was built (at version `start`) tightens its gate there, so the change
        holds from the next order (ADR 0038), with the book's `share` of the account's limits
        (ADR 0043)."""
        enforced: dict[int, int | None] = {}  # by session object: a rebuild starts afresh

        async def mode() -> KillSwitchMode:
            async with self._sessions() as db:
                switch = KillSwitchMode((await controls.kill_switch(db)).mode)
                version = await risk.policy_version(db)
            now = session()
            if version is not None and enforced.get(id(now), start) != version:
                policy = await self._risk_policy()
                if policy is not None:
                    policy[1].tighten(now.loop.gate, own, share)
                    enforced[id(now)] = policy[0]
            return switch

        return mode

    async def _under_policy(
        self, config: StrategyConfig, resume: uuid.UUID | None, share: float = 1.0
    ) -> tuple[StrategyConfig, int | None]:
        """The config a session trades under and the policy version it holds: a new session's
        caps tightened by the policy in force (ADR 0038), its max_positions its `share` of the
        account's (ADR 0043); a rebuilt one's as its run stored them (so the replay decides as
        the session did), tightened again at its next step. Raises ConfigError when its share
        of the account's positions is none."""
        if resume is not None:
            async with self._sessions() as db:
                run = await db.get(Run, resume)
            try:  # runs stored before the policy, or by hand, may hold less than a config
                return StrategyConfig.model_validate(run.config if run else None), None
            except ValidationError:
                return config, None
        policy = await self._risk_policy()
        if policy is None:
            return config, None
        return policy[1].applied_to(config, share), policy[0]

    async def _risk_policy(self) -> tuple[int, RiskPolicy] | None:
        """The risk policy in force and its version (None: none was ever applied)."""
        async with self._sessions() as db:
            row = await risk.policy_in_force(db)
        return None if row is None else (row.version, RiskPolicy.model_validate(row.policy))

    def _settings(self, config: StrategyConfig) -> BacktestConfig:
        """The run settings a session trades under: the account's (costs, fills, sizing), with
        the strategy's seed."""
        return self.settings.model_copy(update={"seed": config.seed})

    def summary(self) -> dict[str, Any] | None:
        """The account across its books (cash, equity, exposure, each strategy's PnL)."""
        if self.allocation is None or not self.trading:
            return None
        live = {s: t.session.ledger for s, t in self.trading.items()}
        budgets = {s: b for s, b in self.allocation.budgets.items() if s in live}
        return summarise(replace(self.allocation, budgets=budgets), live).to_json()

    def describe(self) -> dict[str, Any]:
        """The service's state for logs and the CLI."""
        return {
            "account": self.summary(),
            "refused": dict(self.refused),
            "broker": self.broker,
            "links": {
                s: {
                    "mode": t.mode.value,
                    "connected": t.session.link_up,
                    "detail": t.session.link_detail,
                    "unsettled": list(t.session.unsettled),
                }
                for s, t in self.trading.items()
                if isinstance(t.session, BrokerSession)
            },
            "feed": self.feed,
            "feed_kind": self.feed_gate.kind.value,
            "database_ok": self.health.database_ok,
            "last_error": self.health.last_error,
            "trading": {s: str(t.run_id) for s, t in self.trading.items()},
            "started": self.health.started,
            "stopped": self.health.stopped,
            "failed": list(self.health.failed),
        }
