"""The compiled run: the kernel decides, then the trading loop replays only the steps that trade.

The compiled kernel (ADR 0006) finds every signal in one pass over the bars. The signals then go
through the same TradingLoop, risk gate, SimulatedBroker, ledger and trade log as the event
loop, but only at the steps where something happens (a signal, a working order, the end-of-run
liquidation), so orders, fills and trades are built by the very code that builds them on the
event loop. The curves are marked from the fills with numpy, in the event loop's own float
arithmetic and order of addition. Per-fill Python work remains; per-bar Python work is gone.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from quant_domain import MarketState, Signal, SignalDirection
from quant_domain.instruments import Instrument
from quant_engine.backtest import EngineRun, Progress, finish_run, flatten_at_close
from quant_engine.config import BacktestConfig
from quant_engine.ledger import Ledger
from quant_engine.sim.broker import SimulatedBroker
from quant_engine.sim.clock import TimelineClock
from quant_engine.timeline import Timeline
from quant_engine.trading_loop import TradingLoop
from quant_engine.vectorised import FloatArray, KernelRun, PriceMatrix, VectorRun
from quant_strategy import Strategy


class CompiledMismatch(RuntimeError):
    """The replay's fills differ from the kernel's: the compiled result cannot be trusted."""


class _Replay(Strategy[Any]):
    """Stands in for the strategy in the replay: hands the loop the kernel's signals of a step.

    Sizing is the real strategy's risk_check (the default one: the fast path requires it), so
    the orders are what the strategy itself would have sized.
    """

    def __init__(self, strategy: Strategy[Any]) -> None:
        super().__init__()
        self._config = strategy.config
        self._strategy = strategy
        self.pending: list[Signal] = []

    def on_market_data(self, bar: Any) -> None:
        del bar

    def generate_signals(self, state: MarketState) -> list[Signal]:
        signals, self.pending = self.pending, []
        return signals


def _last_closes(closes: FloatArray) -> FloatArray:
    """Each symbol's last close at or before each step (0.0 before its first bar), as the
    loop's ledger holds it."""
    m, n = closes.shape
    valid = ~np.isnan(closes)
    where = np.where(valid, np.arange(n), -1)
    np.maximum.accumulate(where, axis=1, out=where)
    rows = np.arange(m)[:, None]
    out = closes[rows, np.maximum(where, 0)]
    out[where < 0] = 0.0
    return np.ascontiguousarray(out)


def _signal(symbol: str, value: float, at: Any, reason: str) -> Signal:
    direction = (
        SignalDirection.LONG
        if value > 0
        else SignalDirection.SHORT
        if value < 0
        else SignalDirection.FLAT
    )
    strength = min(abs(value) if value else 1.0, 1.0)
    return Signal(symbol, direction, at, strength=strength, reason=reason)


def chunk_for(steps: int, progress: Progress | None) -> int:
    """Steps per chunk: the whole run at once unless someone watches (then about a hundredth,
    never under CHUNK_FLOOR steps: each chunk costs a kernel call)."""
    if progress is None:
        return max(steps, 1)
    return max(-(-steps // 100), CHUNK_FLOOR)


CHUNK_FLOOR = 2_048
"""The fewest steps a watched run advances between progress reports (a call into the kernel
costs tens of microseconds, a step a few nanoseconds)."""


def compiled_run(
    strategy: Strategy[Any],
    frames: dict[str, pd.DataFrame],
    timeline: Timeline,
    config: BacktestConfig,
    *,
    trade_from: int = 0,
    instruments: Mapping[str, Instrument] | None = None,
    account: str = "backtest",
    progress: Progress | None = None,
    chunk_steps: int | None = None,
) -> EngineRun:
    """The EngineRun the event loop gives for `strategy` (initialised) over `timeline`, built
    from the compiled kernel; raises ValueError when the kernel cannot take this strategy or
    config (vectorised.unsupported_reason) and CompiledMismatch if the replay disagrees.

    The run goes in chunks of `chunk_steps` steps (default: `chunk_for`): the kernel simulates
    a chunk, the trading loop replays the chunk's signals, then `progress` hears how many steps
    are final, and may stop the run by raising (the worker's cancel). Any chunking gives the
    same result to the bit: the kernel and the loop carry all their state across chunks.
    """
    if not 0 <= trade_from < len(timeline):
        raise ValueError(
            f"trade_from {trade_from} is outside the timeline of {len(timeline)} steps"
        )
    prices = PriceMatrix.of(frames)
    if not prices.index.equals(timeline.index):
        raise ValueError("the bar frames and the timeline are not on the same clock")
    kernel_run = KernelRun(strategy, prices, config, trade_from)
    tl = timeline
    n = len(tl)
    last_closes = _last_closes(prices.closes)
    ledger = Ledger(tl.symbols, config.initial_capital)
    clock = TimelineClock(tl)
    broker = SimulatedBroker(config, tl, ledger, clock)
    replay = _Replay(strategy)
    loop = TradingLoop(
        replay,
        ledger,
        broker,
        clock,
        sizing=config.sized_with_costs,
        instruments=instruments,
        account=account,
        step_of=lambda: clock.step,
        cents=config.cents,
    )
    replayer = _Replayer(loop, broker, clock, tl, replay, last_closes, config, strategy)
    chunk = max(chunk_steps or chunk_for(n, progress), 1)
    done = 0
    while done < n:
        done = min(done + chunk, n)
        replayer.take(kernel_run.advance_to(done))
        replayer.run_until(done)
        if progress is not None and done < n:
            progress(done, n)
    fill_steps = replayer.finish()
    _check(loop, kernel_run.result(), fill_steps)
    curves = _curves(loop, fill_steps, last_closes, config.initial_capital)
    if progress is not None:
        progress(n, n)
    result = finish_run(loop, tl, curves, trade_from)
    result.engine = "compiled"
    return result


class _Replayer:
    """Drives the loop through the steps where something happens, a chunk at a time.

    The kernel's signals come in with `take` (chunk by chunk, in step order); `run_until(end)`
    replays every step before `end` that has a signal, a working order or the liquidation.
    """

    def __init__(
        self,
        loop: TradingLoop,
        broker: SimulatedBroker,
        clock: TimelineClock,
        tl: Timeline,
        replay: _Replay,
        last_closes: FloatArray,
        config: BacktestConfig,
        strategy: Strategy[Any],
    ) -> None:
        self.loop, self.broker, self.clock, self.tl = loop, broker, clock, tl
        self.replay = replay
        self.last_closes = last_closes
        self.reason = type(strategy).vector_reason
        n = len(tl)
        self.liquidate_at = n - 1 if config.liquidate_at_end else -1
        self.by_step: dict[int, list[tuple[int, float]]] = {}
        self.due: list[int] = []
        self.j = 0  # the next entry of `due` to replay
        self.i = -1  # the last step replayed
        self.fill_steps: list[int] = []  # each fill's step, in order

    def take(self, signals: FloatArray) -> None:
        """The kernel's signals of the next chunk (steps after every earlier chunk's)."""
        by_step = self.by_step
        for row in signals:
            step = int(row[0])
            if step not in by_step:
                by_step[step] = []
                self.due.append(step)
            by_step[step].append((int(row[1]), float(row[2])))

    def run_until(self, end: int) -> None:
        """Replay the steps before `end` where something happens."""
        loop, broker, clock, due = self.loop, self.broker, self.clock, self.due
        symbols, times = self.tl.symbols, self.tl.times
        last = loop.ledger.last
        while True:
            i = self.i
            upcoming = [due[self.j]] if self.j < len(due) else []
            if broker.working:
                upcoming.append(i + 1)
            if self.liquidate_at > i:
                upcoming.append(self.liquidate_at)
            if not upcoming:
                return
            i = min(upcoming)
            if i >= end:
                return
            self.i = i
            clock.step = i
            last[:] = self.last_closes[:, i].tolist()
            if broker.working:
                broker.match(i)
            at = times[i]
            if self.j < len(due) and due[self.j] == i:
                self.replay.pending = [
                    _signal(symbols[k], d, at, self.reason) for k, d in self.by_step.pop(i)
                ]
                loop.step(at, ())
                self.j += 1
            else:
                loop.state.timestamp = at  # what loop.step sets: the time the step's orders carry
            if i == self.liquidate_at:
                flatten_at_close(loop, broker, self.tl, i, "liquidated at the end of the run")
            self.fill_steps.extend([i] * (len(loop.fills) - len(self.fill_steps)))

    def finish(self) -> list[int]:
        """After the last step: orders still working are cancelled; each fill's step."""
        n = len(self.tl)
        self.clock.step = n - 1
        self.loop.ledger.last[:] = self.last_closes[:, n - 1].tolist()
        self.broker.cancel_all("still working when the data ended")
        return self.fill_steps


def _check(loop: TradingLoop, vector: VectorRun, fill_steps: list[int]) -> None:
    """The replay must fill what the kernel filled: same steps, symbols and quantities."""
    kernel_fills = vector.fills
    index = loop.ledger.index
    if len(kernel_fills) != len(loop.fills):
        raise CompiledMismatch(
            f"the kernel made {len(kernel_fills)} fills, the replay {len(loop.fills)}"
        )
    for row, fill, step in zip(kernel_fills, loop.fills, fill_steps, strict=True):
        signed = float(fill.signed_quantity)
        if (
            int(row[0]) != step
            or int(row[1]) != index[fill.symbol]
            or abs(row[2] - signed) > 1e-9 * max(1.0, abs(signed))
        ):
            raise CompiledMismatch(
                f"fill {fill.fill_id}: the kernel filled {row[2]} of symbol {int(row[1])} at "
                f"step {int(row[0])}, the replay {signed} of {fill.symbol} at step {step}"
            )


def _curves(
    loop: TradingLoop, fill_steps: list[int], last_closes: FloatArray, capital: Decimal
) -> tuple[array[float], array[float], array[float], array[float]]:
    """Equity, cash, positions' value and gross exposure per step, as the event loop marks them.

    The account is constant between fill steps; within each stretch the positions' value is
    summed in the ledger's order of holding, so every float matches the event loop's bit for bit.
    """
    m, n = last_closes.shape
    index = loop.ledger.index
    qty_dec = [Decimal(0)] * m
    qty = [0.0] * m
    held: list[int] = []
    cash_dec = capital  # added to fill by fill, as the ledger does (same Decimal rounding)
    cash_now = float(capital)
    # the account after each step that filled: (step, cash, quantities, held order)
    states: list[tuple[int, float, list[float], list[int]]] = [(0, cash_now, list(qty), [])]
    for f, step in zip(loop.fills, fill_steps, strict=True):
        k = index[f.symbol]
        cash_dec += f.cash_change
        qty_dec[k] += f.signed_quantity
        qty[k] = float(qty_dec[k])
        if qty_dec[k] == 0:
            if k in held:
                held.remove(k)
        elif k not in held:
            held.append(k)
        state = (step, float(cash_dec), list(qty), list(held))
        if states[-1][0] == step:
            states[-1] = state
        else:
            states.append(state)
    cash = np.empty(n)
    value = np.zeros(n)
    gross = np.zeros(n)
    for s, (start, in_cash, quantities, holding) in enumerate(states):
        end = states[s + 1][0] if s + 1 < len(states) else n
        cash[start:end] = in_cash
        for k in holding:
            v = quantities[k] * last_closes[k, start:end]
            value[start:end] += v
            gross[start:end] += np.abs(v)
    equity = cash + value
    return (_array(equity), _array(cash), _array(value), _array(gross))


def _array(values: FloatArray) -> array[float]:
    return array("d", np.ascontiguousarray(values, dtype=np.float64).tobytes())
