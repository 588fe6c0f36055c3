"""The vectorised fast path: a strategy's vector_targets simulated by the compiled kernel.

Same fill model, costs, sizing and caps as the event loop (kernel.py says exactly which rules);
the event loop stays the reference and parity tests compare the two fill by fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_engine import kernel
from quant_engine.config import BacktestConfig, FillTiming
from quant_strategy import Strategy

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class VectorRun:
    """Kernel output from `trade_from` on: equity per step, fills, closed and open round trips.

    fills columns: step (absolute), symbol index, signed quantity, price, commission.
    open_trades columns: symbol index, entry step (absolute), net PnL marked at the last close.
    signals columns: step (absolute), symbol index, desired value (each signal the kernel took).
    """

    index: pd.DatetimeIndex
    symbols: list[str]
    equity: FloatArray
    fills: FloatArray
    trade_pnls: FloatArray
    trade_entry_steps: FloatArray
    trade_exit_steps: FloatArray
    open_trades: FloatArray
    signals: FloatArray


GATE_ONLY_CAPS = (
    "max_position_qty",
    "max_order_notional",
    "price_collar_pct",
    "max_orders_per_minute",
)
"""RiskCaps the risk gate enforces and the compiled kernel does not: a run with any set stays on
the event loop, so the fast path never gives a result the gate would have changed."""


def unsupported_reason(strategy: Strategy[Any], config: BacktestConfig) -> str | None:
    """Why the fast path cannot run this strategy under this config, or None when it can."""
    if type(strategy).vector_targets is Strategy.vector_targets:
        return f"{type(strategy).__name__} has no vector_targets"
    if strategy.config.budget is not None:
        return "a capital budget is only enforced by the event loop (its sizer and risk gate)"
    risk = strategy.config.risk
    if risk.max_positions is not None:
        return "risk.max_positions is only enforced by the event loop"
    for cap in GATE_ONLY_CAPS:
        if getattr(risk, cap) is not None:
            return f"risk.{cap} is only enforced by the event loop's risk gate"
    if type(strategy).risk_check is not Strategy.risk_check:
        return f"{type(strategy).__name__} overrides risk_check"
    del config
    return None


def pack_settings(
    strategy: Strategy[Any], config: BacktestConfig
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    risk = strategy.config.risk
    sizing = config.sizing
    costs = config.costs
    settings = np.zeros(11)
    settings[kernel.P_CASH] = float(config.initial_capital)
    settings[kernel.P_FEE] = float(costs.commission_per_trade)
    settings[kernel.P_COMM_BPS] = float(costs.commission_bps)
    settings[kernel.P_SLIP] = float(costs.slippage_bps / 10_000)
    settings[kernel.P_COST_RATE] = float(costs.slippage_bps + costs.commission_bps) / 10_000.0
    settings[kernel.P_FRACTION] = sizing.fraction
    settings[kernel.P_FIXED_QTY] = float(sizing.quantity)
    settings[kernel.P_MAX_POS] = risk.max_position_pct
    settings[kernel.P_MAX_GROSS] = risk.max_gross_exposure
    settings[kernel.P_MIN_TRADE] = risk.min_trade_pct
    settings[kernel.P_MIN_STRENGTH] = strategy.config.signals.min_strength
    flags = np.zeros(7, dtype=np.bool_)
    flags[kernel.F_NEXT_OPEN] = config.fill_timing is FillTiming.NEXT_OPEN
    flags[kernel.F_FIXED] = sizing.mode.value == "fixed"
    flags[kernel.F_FRACTIONAL] = sizing.fractional
    flags[kernel.F_SHORT] = risk.allow_short
    flags[kernel.F_MARGIN] = config.allow_margin
    flags[kernel.F_LIQUIDATE] = config.liquidate_at_end
    flags[kernel.F_CENTS] = config.cents
    return settings, flags


@dataclass(frozen=True, slots=True)
class PriceMatrix:
    """Bar frames aligned on one clock as (symbols x steps) arrays; NaN where a symbol has no bar."""

    symbols: list[str]
    index: pd.DatetimeIndex
    opens: FloatArray
    closes: FloatArray
    frames: dict[str, pd.DataFrame]

    @classmethod
    def of(cls, frames: dict[str, pd.DataFrame]) -> PriceMatrix:
        symbols = list(frames)
        index = pd.DatetimeIndex(frames[symbols[0]].index)
        for symbol in symbols[1:]:
            if not frames[symbol].index.equals(index):
                index = index.union(pd.DatetimeIndex(frames[symbol].index))
        aligned = {
            s: f.reindex(index) if not f.index.equals(index) else f for s, f in frames.items()
        }
        opens = np.vstack([aligned[s]["open"].to_numpy(dtype=np.float64) for s in symbols])
        closes = np.vstack([aligned[s]["close"].to_numpy(dtype=np.float64) for s in symbols])
        return cls(symbols, index, opens, closes, frames)


def targets_matrix(strategy: Strategy[Any], prices: PriceMatrix) -> FloatArray:
    """Each symbol's vector_targets placed on the shared clock (NaN where it has no bar)."""
    if len(prices.symbols) == 1 and prices.frames[prices.symbols[0]].index.equals(prices.index):
        only = prices.symbols[0]
        wanted = strategy.vector_targets(only, prices.frames[only])
        if wanted is not None and len(wanted) == len(prices.index):
            return np.ascontiguousarray(wanted, dtype=np.float64).reshape(1, -1)
    out = np.full(prices.closes.shape, np.nan)
    for k, symbol in enumerate(prices.symbols):
        frame = prices.frames[symbol]
        wanted = strategy.vector_targets(symbol, frame)
        if wanted is None:
            raise ValueError(f"{type(strategy).__name__}.vector_targets returned None for {symbol}")
        if len(wanted) != len(frame):
            raise ValueError(
                f"vector_targets for {symbol} returned {len(wanted)} values for {len(frame)} bars"
            )
        if frame.index.equals(prices.index):
            out[k] = wanted
        else:
            out[k, prices.index.get_indexer(frame.index)] = wanted
    return out


class KernelRun:
    """The compiled kernel over `prices`, advanced a stretch of steps at a time.

    `advance_to(end)` simulates the steps up to `end` and returns the signals they took; the
    kernel keeps every quantity between calls, so a run advanced in any chunks ends exactly
    where the one-shot `simulate` does. A caller can report progress and stop between chunks.
    """

    def __init__(
        self,
        strategy: Strategy[Any],
        prices: PriceMatrix,
        config: BacktestConfig,
        trade_from: int = 0,
    ) -> None:
        reason = unsupported_reason(strategy, config)
        if reason is not None:
            raise ValueError(f"no vectorised path: {reason}")
        settings, self._flags = pack_settings(strategy, config)
        self._targets = targets_matrix(strategy, prices)
        self.prices = prices
        self.trade_from = trade_from
        m, n = prices.closes.shape
        self.steps = n
        self.done = 0
        self._state = kernel.start(m, n, settings)
        self._taken = 0

    def advance_to(self, end: int) -> FloatArray:
        """Simulate the steps from `done` up to `end` (exclusive); the signals they took."""
        end = min(end, self.steps)
        if end > self.done:
            kernel.advance(
                self.prices.opens,
                self.prices.closes,
                self._targets,
                self.trade_from,
                self._flags,
                self._state,
                self.done,
                end,
            )
            self.done = end
        counts, taken = self._state[10], self._state[7]
        fresh = np.asarray(taken[self._taken : counts[0]], dtype=np.float64).reshape(-1, 3)
        self._taken = int(counts[0])
        return fresh

    def result(self) -> VectorRun:
        """The run's output, once every step is simulated."""
        if self.done < self.steps:
            raise ValueError(f"the kernel has simulated {self.done} of {self.steps} steps")
        return _vector_run(self.prices, self.trade_from, kernel.finish(self._state))


def _vector_run(prices: PriceMatrix, trade_from: int, output: tuple[Any, ...]) -> VectorRun:
    equity, fills, pnls, entries, exits, still_open, signals = output
    return VectorRun(
        index=prices.index[trade_from:],
        symbols=prices.symbols,
        equity=np.asarray(equity[trade_from:], dtype=np.float64),
        fills=np.asarray(fills, dtype=np.float64),
        trade_pnls=np.asarray(pnls, dtype=np.float64),
        trade_entry_steps=np.asarray(entries, dtype=np.float64),
        trade_exit_steps=np.asarray(exits, dtype=np.float64),
        open_trades=np.asarray(still_open, dtype=np.float64).reshape(-1, 3),
        signals=np.asarray(signals, dtype=np.float64).reshape(-1, 3),
    )


def simulate(
    strategy: Strategy[Any], prices: PriceMatrix, config: BacktestConfig, trade_from: int = 0
) -> VectorRun:
    """Run `strategy` (initialised) through the compiled kernel; see unsupported_reason()."""
    reason = unsupported_reason(strategy, config)
    if reason is not None:
        raise ValueError(f"no vectorised path: {reason}")
    settings, flags = pack_settings(strategy, config)
    targets = targets_matrix(strategy, prices)
    output = kernel.simulate(prices.opens, prices.closes, targets, trade_from, settings, flags)
    return _vector_run(prices, trade_from, output)
