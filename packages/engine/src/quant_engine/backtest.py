"""BacktestEngine: drives the simulated clock and broker through the TradingLoop over a timeline.

Per step t: the simulated broker fills the working orders that the bar at t reaches (next-open
market orders, limits, stops); the loop takes each symbol's bar, decides and sends orders through
the risk gate (market orders fill at the close of t unless fill timing is next-open); equity is
marked at the closes of t; and after the last step of a session the broker expires its DAY
orders and the strategy's daily_close runs.
"""

from __future__ import annotations

import gc
import math
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_domain import Bar, Fill, KillSwitchMode, Trade, to_decimal
from quant_domain.instruments import Instrument
from quant_engine.config import BacktestConfig
from quant_engine.ledger import Ledger
from quant_engine.oms import OrderRecord
from quant_engine.sim.broker import SimulatedBroker
from quant_engine.sim.clock import TimelineClock
from quant_engine.timeline import Timeline
from quant_engine.trade_log import TradeLog
from quant_engine.trading_loop import TradingLoop
from quant_strategy import Strategy

Progress = Callable[[int, int], None]
StepObserver = Callable[[int, "BacktestEngine"], None]
KillSwitchSchedule = Sequence[tuple[datetime, KillSwitchMode]]
FloatArray = npt.NDArray[np.float64]
_TIME_CHUNK = 4096  # steps whose datetimes the loop builds at once
_GC_PILE = 100_000  # tracked objects allocated (net) since the last collection that start one


@dataclass(slots=True)
class EngineRun:
    """Raw output of one run; the backtest service turns it into a BacktestResult."""

    index: pd.DatetimeIndex
    equity: FloatArray
    cash: FloatArray
    positions_value: FloatArray
    gross_exposure: FloatArray
    fills: list[Fill]
    trades: list[Trade]
    orders: list[OrderRecord]
    final_cash: Decimal
    final_positions: dict[str, Decimal]
    final_equity: Decimal
    total_fees: Decimal
    traded_notional: Decimal
    bars_processed: int
    engine: str = "event"  # the path that made it: "event" (this loop) or "compiled"


class BacktestEngine:
    """Runs one strategy over one timeline under one BacktestConfig."""

    def __init__(self, config: BacktestConfig) -> None:
        self.config = config

    @property
    def ledger(self) -> Ledger:
        return self.loop.ledger

    @property
    def fills(self) -> list[Fill]:
        return self.loop.fills

    @property
    def trade_log(self) -> TradeLog:
        return self.loop.trade_log

    # One flat body on purpose: the per-bar path reads hoisted locals (a method call per bar
    # costs more than the work; bench/event_loop.py).
    def run(  # noqa: PLR0912, PLR0915
        self,
        strategy: Strategy[Any],
        timeline: Timeline,
        progress: Progress | None = None,
        observer: StepObserver | None = None,
        trade_from: int = 0,
        kill_switch: KillSwitchSchedule = (),
        instruments: Mapping[str, Instrument] | None = None,
        account: str = "backtest",
    ) -> EngineRun:
        """Run `strategy` (already initialised) over `timeline` and return the raw result.

        Steps before `trade_from` are warm-up: the strategy sees their bars and may signal, but
        risk_check is not called and nothing trades; the result starts at `trade_from`.
        `kill_switch` changes the kill-switch mode at the first step at or after each time.
        `instruments` tells the risk gate which symbols may be sold short (default: all).
        `account` is part of every client order id: a backtest run for the same account as a
        paper session names its orders exactly as the session did (the parity report's key).
        """
        if not 0 <= trade_from < len(timeline):
            raise ValueError(
                f"trade_from {trade_from} is outside the timeline of {len(timeline)} steps"
            )
        self.strategy = strategy
        self.timeline = timeline
        ledger = Ledger(timeline.symbols, self.config.initial_capital)
        clock = TimelineClock(timeline)
        broker = SimulatedBroker(self.config, timeline, ledger, clock)
        loop = TradingLoop(
            strategy,
            ledger,
            broker,
            clock,
            sizing=self.config.sized_with_costs,
            instruments=instruments,
            account=account,
            step_of=lambda: clock.step,
            cents=self.config.cents,
        )
        self.broker = broker
        self.loop = loop
        liquidate_at = len(timeline) - 1 if self.config.liquidate_at_end else -1
        # kill-switch changes, as (first step at or after the change's time, mode)
        changes = [
            (int(timeline.index.searchsorted(when)), mode)
            for when, mode in sorted(kill_switch, key=lambda change: change[0])
        ]
        tl = timeline
        n = len(tl)
        step = loop.step
        step_one = loop.step_one
        end_session = loop.end_session
        last = ledger.last
        qty = ledger.qty
        held = ledger.held
        symbols = tl.symbols
        m = len(symbols)
        present = tl.present
        times, day_end = tl.times, tl.day_end
        opens, highs, lows, closes, volumes = tl.opens, tl.highs, tl.lows, tl.closes, tl.volumes
        every_symbol = list(range(m))
        single = m == 1 and present is None  # one symbol, a bar at every step: no list per step
        symbol = symbols[0]
        open_, high, low, close, volume = opens[0], highs[0], lows[0], closes[0], volumes[0]
        new_bar = tuple.__new__
        # one symbol with a bar at every step: the curves are rebuilt after the loop from the
        # ledger's state at each step whose marking follows a fill (`marks`), since between
        # fills only the close moves; otherwise each step marks its own row
        size = 0 if single else n
        equity = array("d", bytes(8 * size))
        cash = array("d", bytes(8 * size))
        positions_value = array("d", bytes(8 * size))
        gross = array("d", bytes(8 * size))
        marks = _Marks(ledger.cash)
        mark_step, mark_cash, mark_qty = marks.steps.append, marks.cash.append, marks.qty.append
        booked = ledger.booked
        report_every = max(n // 100, 1)
        loop.trading = trade_from == 0
        # the next step at which something other than bars happens (warm-up ends, the kill
        # switch changes, a flatten is due): one integer comparison per step finds it
        next_event = self._next_event(0, trade_from, changes)
        # the step after whose decisions the engine closes positions itself: the last (with
        # liquidate_at_end), or every step while the kill switch is flatten_and_halt
        closing_at = liquidate_at
        # datetimes a chunk of steps at a time: the timeline keeps integers (ADR 0044), and a
        # chunk's list is all that is alive at once
        chunk = _TIME_CHUNK
        # the collector stays out of the loop: what exists before it is frozen out of every
        # collection, and the loop's garbage is freed by reference counting; only when tracked
        # objects pile up (a strategy that keeps or leaks them) does it collect, between chunks
        collecting = gc.isenabled()
        gc.disable()
        gc.freeze()
        try:
            for lo in range(0, n, chunk):
                if collecting and gc.get_count()[0] > _GC_PILE:
                    gc.collect()  # the strategy keeps (or leaks) objects: collect, once a chunk
                for i, ts in enumerate(times[lo : lo + chunk], lo):
                    clock.step = i  # the broker's, the clock's and the trade log's step
                    if broker.working:
                        broker.match(i)
                    if i == next_event:
                        next_event = self._event(i, trade_from, changes)
                        if loop.mode is KillSwitchMode.FLATTEN_AND_HALT:
                            closing_at = i
                            next_event = (
                                i + 1
                            )  # flatten again next step (a symbol may lack a bar now)
                        else:
                            closing_at = liquidate_at
                    # new_bar(Bar, fields) is Bar(*fields) without the Python-level __new__ that a
                    # NamedTuple has: one frame less per bar
                    if single:
                        step_one(
                            ts,
                            new_bar(
                                Bar, (symbol, ts, open_[i], high[i], low[i], close[i], volume[i])
                            ),
                        )
                    else:
                        step(
                            ts,
                            [
                                new_bar(
                                    Bar,
                                    (
                                        symbols[k],
                                        ts,
                                        opens[k][i],
                                        highs[k][i],
                                        lows[k][i],
                                        closes[k][i],
                                        volumes[k][i],
                                    ),
                                )
                                for k in (every_symbol if present is None else present[i])
                            ],
                        )
                    if i == closing_at:
                        if i == liquidate_at:
                            self._flatten(i, "liquidated at the end of the run")
                        elif held or broker.working:
                            self._flatten(i, "kill switch: flatten_and_halt")
                    if single:
                        if ledger.booked != booked:
                            booked = ledger.booked
                            mark_step(i)
                            mark_cash(ledger.cash)
                            mark_qty(qty[0] if held else math.nan)
                    else:
                        value = 0.0
                        gross_value = 0.0
                        for k in held:
                            v = qty[k] * last[k]
                            value += v
                            gross_value += v if v >= 0.0 else -v
                        in_cash = ledger.cash
                        equity[i] = in_cash + value
                        cash[i] = in_cash
                        positions_value[i] = value
                        gross[i] = gross_value
                    if day_end[i]:
                        if broker.working:
                            broker.end_session(i)
                        end_session()
                    if observer is not None:
                        observer(i, self)
                    if progress is not None and (i + 1) % report_every == 0:
                        progress(i + 1, n)
        finally:
            gc.unfreeze()
            if collecting:
                gc.enable()
        if progress is not None and n % report_every:
            progress(n, n)
        broker.cancel_all("still working when the data ended")
        curves: Curves = (equity, cash, positions_value, gross)
        if single:
            curves = marks.curves(n, close)
        return finish_run(self.loop, tl, curves, trade_from, copy=False)

    @staticmethod
    def _next_event(i: int, trade_from: int, changes: list[tuple[int, KillSwitchMode]]) -> int:
        upcoming = [at for at, _ in changes if at >= i]
        if trade_from >= i:
            upcoming.append(trade_from)
        return min(upcoming, default=-1)

    def _event(self, i: int, trade_from: int, changes: list[tuple[int, KillSwitchMode]]) -> int:
        """Apply what is due at step `i`; the step of the next event (-1: none)."""
        loop = self.loop
        if i == trade_from:
            loop.trading = True
        for at, mode in changes:
            if at == i:
                loop.mode = mode
        return self._next_event(i + 1, trade_from, changes)

    def _flatten(self, i: int, reason: str) -> None:
        flatten_at_close(self.loop, self.broker, self.timeline, i, reason)


Curve: TypeAlias = "array[float] | FloatArray"
Curves = tuple[Curve, Curve, Curve, Curve]
"""Per step: equity, cash, positions' value and gross exposure (money)."""


class _Marks:
    """A one-symbol run's account at each step whose marking came after a fill: the step, the
    cash and the quantity held (NaN: none), in the floats the loop's marking would read."""

    __slots__ = ("cash", "initial_cash", "qty", "steps")

    def __init__(self, initial_cash: float) -> None:
        self.initial_cash = initial_cash
        self.steps: list[int] = []
        self.cash: list[float] = []
        self.qty: list[float] = []

    def curves(self, n: int, close: Sequence[float]) -> Curves:
        """The n-step curves, each value the very float the per-step marking computes:
        equity = cash + (0.0 + qty * close), gross = 0.0 + |qty * close|, and 0.0 for both
        parts while nothing is held."""
        bounds = np.array([0, *self.steps, n], dtype=np.int64)
        lengths = bounds[1:] - bounds[:-1]
        cash = np.repeat(np.array([self.initial_cash, *self.cash]), lengths)
        qty = np.repeat(np.array([math.nan, *self.qty]), lengths)
        held = ~np.isnan(qty)
        value = np.zeros(n)
        gross = np.zeros(n)
        v = qty[held] * np.asarray(close, dtype=np.float64)[held]
        value[held] = 0.0 + v
        gross[held] = 0.0 + np.abs(v)
        return cash + value, cash, value, gross


def finish_run(
    loop: TradingLoop, tl: Timeline, curves: Curves, trade_from: int, *, copy: bool = True
) -> EngineRun:
    """The raw result of a finished loop over `tl`, from step `trade_from` on.

    `copy=False` hands out views of `curves` instead of copies (a finished backtest's: its
    arrays never grow again); a paper session, whose curves keep growing, takes copies.
    """
    equity, cash, positions_value, gross = curves

    def curve(values: Curve) -> FloatArray:
        view = np.frombuffer(values, dtype=np.float64)[trade_from:]
        return view.copy() if copy else view

    eq = curve(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        exposure = np.where(eq > 0, np.frombuffer(gross, dtype=np.float64)[trade_from:] / eq, 0.0)
    ledger = loop.ledger
    marks = {s: to_decimal(ledger.last[ledger.index[s]]) for s in ledger.held_symbols()}
    trades = loop.trade_log.closed + loop.trade_log.open_trades(
        len(tl) - 1, ledger.positions, marks
    )
    return EngineRun(
        index=tl.index[trade_from:],
        equity=eq,
        cash=curve(cash),
        positions_value=curve(positions_value),
        gross_exposure=exposure,
        fills=loop.fills,
        trades=trades,
        orders=loop.orders,
        final_cash=ledger.cash_dec,
        final_positions={s: p.quantity for s, p in ledger.positions.items() if p.quantity},
        final_equity=ledger.equity_decimal(),
        total_fees=ledger.fees_dec,
        traded_notional=loop.notional,
        bars_processed=tl.bar_count,
    )


def flatten_at_close(
    loop: TradingLoop, broker: SimulatedBroker, timeline: Timeline, i: int, reason: str
) -> None:
    """Close every position at step `i`'s close (costs apply), whatever the fill timing.

    Positions close in the timeline's symbol order, so a run's last fills are predictable;
    a symbol without a bar at this step keeps its position.
    """
    closes = timeline.closes
    index = loop.ledger.index
    broker.fill_at_close = True
    try:
        loop.flatten(reason, lambda s: not math.isnan(closes[index[s]][i]))
    finally:
        broker.fill_at_close = False
