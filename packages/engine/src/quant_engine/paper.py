"""PaperSession: the same TradingLoop and SimulatedBroker as a backtest, fed one step at a time.

A backtest knows every bar in advance; a paper session (and, later, live trading) learns each
step's bars as they close. Everything that decides is shared: the strategy object, the risk gate,
the order lifecycle and the simulated broker's fill models and costs. What differs is only how the
bars arrive: `on_bars(now, bars)` appends them to a growing timeline (the same columns a backtest
reads, so the broker and the clock index them the same way) and runs one step, in the order the
backtest driver does.

Sessions come from the same calendar rules (quant_engine.sessions). A daily bar ends its session
when it is decided (at the close); an intraday session ends when the first bar of a later session
arrives, or when the runner calls `end_session()` at the close. Either way the broker expires
its DAY orders and the strategy's daily_close runs before anything of the next session happens,
which is what a backtest over the same bars does.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import numpy as np
import pandas as pd

from quant_domain import Bar, KillSwitchMode
from quant_domain.instruments import Instrument
from quant_domain.ports import OrderJournal
from quant_engine.backtest import EngineRun, finish_run, flatten_at_close
from quant_engine.config import BacktestConfig
from quant_engine.ledger import Ledger
from quant_engine.order_acks import AckTimes, TimedBroker
from quant_engine.sessions import session_calendar
from quant_engine.sim.broker import SimulatedBroker
from quant_engine.sim.clock import TimelineClock
from quant_engine.timeline import Timeline
from quant_engine.trading_loop import TradingLoop
from quant_strategy import Strategy

_US = 1_000_000
_DAY = 86_400


def _empty_timeline(symbols: list[str], calendar: str | None, daily: bool) -> Timeline:
    return Timeline(
        symbols=symbols,
        index=pd.DatetimeIndex([], tz="UTC"),
        times=[],
        opens=[array("d") for _ in symbols],
        highs=[array("d") for _ in symbols],
        lows=[array("d") for _ in symbols],
        closes=[array("d") for _ in symbols],
        volumes=[array("d") for _ in symbols],
        present=[],
        day_end=[],
        calendar=session_calendar(calendar).name,
        session=array("q"),
        market_open=[],
        session_opens=array("q"),
        session_closes=array("q"),
        own_days=array("q"),
        daily=daily,
    )


class PaperSession:
    """One strategy trading on bars as they close, through the simulated (paper) broker."""

    def __init__(
        self,
        strategy: Strategy[Any],
        config: BacktestConfig,
        *,
        calendar: str | None = None,
        daily: bool = True,
        account: str = "paper",
        instruments: Mapping[str, Instrument] | None = None,
        journal: OrderJournal | None = None,
    ) -> None:
        """`strategy` is initialised; `config` gives capital, costs, fill timing and sizing (the
        paper broker charges what a backtest charges); `daily` says the bars are daily or coarser
        (decided at their session's close), else intraday."""
        symbols = list(strategy.config.universe)
        self.config = config
        self.timeline = _empty_timeline(symbols, calendar, daily)
        self._calendar = session_calendar(calendar)
        self._index = {s: k for k, s in enumerate(symbols)}
        self.ledger = Ledger(symbols, config.initial_capital)
        self.clock = TimelineClock(self.timeline)
        self.broker = SimulatedBroker(config, self.timeline, self.ledger, self.clock)
        self.acks = AckTimes()  # each order's time to its first report, for the metrics
        self.loop = TradingLoop(
            strategy,
            self.ledger,
            TimedBroker(self.broker, self.acks),
            self.clock,
            sizing=config.sized_with_costs,
            account=account,
            instruments=instruments,
            journal=journal,
            cents=config.cents,
        )
        self._curves: tuple[array[float], array[float], array[float], array[float]] = (
            array("d"),
            array("d"),
            array("d"),
            array("d"),
        )
        self._open_session = False  # the last step's session has not ended yet
        self._market_open = False
        self.trade_from = 0

    @property
    def broker_name(self) -> str:
        """The broker this session's orders go to, as metrics label it."""
        return "sim"

    # -- the trading state -----------------------------------------------------------------------
    @property
    def mode(self) -> KillSwitchMode:
        return self.loop.mode

    def set_mode(self, mode: KillSwitchMode) -> None:
        """The kill-switch mode for the next order; flatten_and_halt closes everything at once."""
        self.loop.mode = mode
        if mode is KillSwitchMode.FLATTEN_AND_HALT and self.timeline.times:
            self._flatten("kill switch: flatten_and_halt")

    def warm_up(self, now: datetime, bars: Sequence[Bar]) -> None:
        """A step of history before trading: the strategy sees the bars, nothing trades."""
        self.loop.trading = False
        try:
            self.on_bars(now, bars)
        finally:
            self.loop.trading = True
        self.trade_from = len(self.timeline)

    # -- one step --------------------------------------------------------------------------------
    def on_bars(self, now: datetime, bars: Sequence[Bar], *, final: bool = False) -> None:
        """The bars that closed at `now` (one per symbol that traded), in one step.

        `final` marks the session's last step: with `liquidate_at_end` every position closes at
        its close, as a backtest's last step does.
        """
        tl = self.timeline
        if tl.times and now <= tl.times[-1]:
            raise ValueError(
                f"bars at {now.isoformat()} arrive after {tl.times[-1].isoformat()}: "
                "a step's time must move forward"
            )
        row = self._row(bars)  # checked before anything changes
        session = self._label(now)
        if self._open_session and tl.session[-1] != session:
            self._end_session(len(tl) - 1)
        i = self._append(now, row, session)
        loop = self.loop
        loop.step_index = i
        self.clock.step = i
        if self.broker.working:
            self.broker.match(i)
        loop.step(now, bars)
        if loop.mode is KillSwitchMode.FLATTEN_AND_HALT and (
            self.ledger.held or self.broker.working
        ):
            self._flatten("kill switch: flatten_and_halt")
        if final and self.config.liquidate_at_end:
            self._flatten("liquidated at the end of the run")
        self._mark()
        self._open_session = True
        if tl.daily:  # decided at the close: the session is over
            self._end_session(i)

    def end_session(self) -> None:
        """The session of the last step closed (the runner's clock says so): DAY orders expire
        and the strategy rolls its daily state. Harmless when it has ended already."""
        if self._open_session:
            self._end_session(len(self.timeline) - 1)

    def last_point(self) -> tuple[float, float, float, float]:
        """The last step's equity, cash, positions' value and gross exposure (what a backtest's
        equity curve holds for that step)."""
        equity, cash, positions_value, gross = self._curves
        if not equity:
            raise ValueError("the paper session has no steps yet")
        return equity[-1], cash[-1], positions_value[-1], gross[-1]

    def marks(self) -> dict[str, float]:
        """The last close of every symbol that has traded so far."""
        ledger = self.ledger
        return {s: ledger.last[k] for k, s in enumerate(ledger.symbols) if ledger.last[k] > 0}

    def result(self) -> EngineRun:
        """The session so far, in the shape a backtest returns (cancels nothing)."""
        tl = self.timeline
        if not tl.times:
            raise ValueError("the paper session has no steps yet")
        # steps may carry different UTC tzinfo objects (stored history, then the bus): one index
        tl.index = pd.DatetimeIndex(pd.to_datetime(tl.times, utc=True))
        return finish_run(self.loop, tl, self._curves, min(self.trade_from, len(tl) - 1))

    def close(self) -> EngineRun:
        """End the session: its last session ends, working orders are cancelled, result returned."""
        self.end_session()
        self.broker.cancel_all("still working when the session ended")
        return self.result()

    # -- internals -------------------------------------------------------------------------------
    def _label(self, now: datetime) -> int:
        """The number of `now`'s session, adding the session when it is new."""
        tl = self.timeline
        opens, closes, market_open, own = self._calendar.label_one(now, tl.daily)
        self._market_open = market_open
        if own:
            day = int(opens // _US // _DAY)
            if not tl.own_days or tl.own_days[-1] != day:
                tl.own_days.append(day)
        if tl.session_closes and tl.session_closes[-1] == closes // _US:
            return len(tl.session_closes) - 1
        tl.session_opens.append(opens // _US)
        tl.session_closes.append(closes // _US)
        return len(tl.session_closes) - 1

    def _row(self, bars: Sequence[Bar]) -> dict[int, Bar]:
        """The step's bars by symbol index; a bar outside the universe is refused."""
        row: dict[int, Bar] = {}
        for bar in bars:
            k = self._index.get(bar.symbol)
            if k is None:
                raise ValueError(f"bar for {bar.symbol}, which is not in the strategy's universe")
            row[k] = bar
        return row

    def _append(self, now: datetime, row: dict[int, Bar], session: int) -> int:
        tl = self.timeline
        nan = math.nan
        # a paper session's timeline grows: its columns are arrays, its times a list
        grow = cast(
            "list[list[array[float]]]", [tl.opens, tl.highs, tl.lows, tl.closes, tl.volumes]
        )
        for k in range(len(tl.symbols)):
            got = row.get(k)
            grow[0][k].append(nan if got is None else got.open)
            grow[1][k].append(nan if got is None else got.high)
            grow[2][k].append(nan if got is None else got.low)
            grow[3][k].append(nan if got is None else got.close)
            grow[4][k].append(nan if got is None else got.volume)
        assert tl.present is not None
        tl.present.append(sorted(row))
        cast("list[datetime]", tl.times).append(now)
        tl.session.append(session)
        tl.market_open.append(self._market_open)
        tl.day_end.append(False)
        return len(tl.times) - 1

    def _end_session(self, i: int) -> None:
        self.timeline.day_end[i] = True
        if self.broker.working:
            self.broker.end_session(i)
        self.loop.end_session()
        self._open_session = False

    def _flatten(self, reason: str) -> None:
        flatten_at_close(self.loop, self.broker, self.timeline, len(self.timeline) - 1, reason)

    def _mark(self) -> None:
        ledger = self.ledger
        value = 0.0
        gross = 0.0
        for k in ledger.held:
            v = ledger.qty[k] * ledger.last[k]
            value += v
            gross += abs(v)
        equity, cash, positions_value, gross_curve = self._curves
        equity.append(ledger.cash + value)
        cash.append(ledger.cash)
        positions_value.append(value)
        gross_curve.append(gross)


def equal_runs(a: EngineRun, b: EngineRun) -> list[str]:
    """Where two runs over the same bars differ (orders, fills, equity); [] when identical."""
    problems: list[str] = []

    def orders(run: EngineRun) -> list[tuple[Any, ...]]:
        return [
            (
                r.order.client_order_id,
                r.order.symbol,
                r.order.side.value,
                r.order.quantity,
                r.status.value,
                r.code,
                r.filled_quantity,
                r.fill_price,
            )
            for r in run.orders
        ]

    def fills(run: EngineRun) -> list[tuple[Any, ...]]:
        return [
            (
                f.client_order_id,
                f.symbol,
                f.side.value,
                f.quantity,
                f.price,
                f.commission,
                f.timestamp,
            )
            for f in run.fills
        ]

    for name, left, right in (
        ("orders", orders(a), orders(b)),
        ("fills", fills(a), fills(b)),
    ):
        if left != right:
            first = next(
                (j for j, (x, y) in enumerate(zip(left, right, strict=False)) if x != y),
                min(len(left), len(right)),
            )
            problems.append(f"{name} differ from #{first + 1} ({len(left)} against {len(right)})")
    if len(a.equity) != len(b.equity) or not np.array_equal(a.equity, b.equity):
        problems.append("equity curves differ")
    if a.final_equity != b.final_equity:
        problems.append(f"final equity {a.final_equity} against {b.final_equity}")
    if a.final_positions != b.final_positions or a.final_cash != b.final_cash:
        problems.append("final positions or cash differ")
    return problems
