"""Maximum favourable and adverse excursion (MFE, MAE) of each trade, measured after the run.

The rule, per trade, in one symbol's bars (docs/backtest-assumptions.md states it for users):

- The prices that count are the highs and lows of the bars the trade held, plus the trade's own
  end points: its entry price and its exit price (or, still open, the mark it was valued at).
- The entry bar counts unless the entry fill was at that bar's close: a close fill saw none of
  the bar after it. The exit bar counts unless the exit fill was at that bar's open: an open fill
  saw none of the bar before it. A fill inside a bar (a limit or a stop) counts the whole bar,
  since the order of the bar's high and low is not known; a fill whose bar opened and closed at
  the same price is read by the run's fill timing.
- Bars strictly between entry and exit always count; an open trade counts every bar after its
  entry up to the run's last.
- Excursions are per unit, against the trade's entry_price (the average of its entry fills, so a
  trade that scaled in is measured against its final average from its first fill on). MFE is the
  best move in the trade's favour and never below 0; MAE the worst against it and never above 0.

A fill's reference price (the bar's open or close before slippage) is read back from the fill:
the simulated broker moves the reference against the trader by `slippage / quantity`.

Both engine paths hand the same trades and fills to this function, so the excursions match too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import Enum

import numpy as np
import pandas as pd

from quant_domain import Fill, OrderSide, Trade, TradeDirection, to_decimal
from quant_engine.config import FillTiming
from quant_features.regime_points import regimes_at

_TOLERANCE = 1e-9  # relative: a reference price read back through Decimal division


class _At(Enum):
    OPEN = "open"
    CLOSE = "close"
    INSIDE = "inside"


class _Bars:
    """One symbol's bars as arrays, with the timestamp -> position lookup."""

    def __init__(self, frame: pd.DataFrame) -> None:
        index = pd.DatetimeIndex(frame.index)
        # microseconds whatever the index's unit: bars need no finer time, and nanoseconds
        # end in 2262 (a long synthetic history of daily bars runs past it)
        utc = index if index.tz is None else index.tz_convert("UTC")
        self.times = utc.as_unit("us").asi8
        self.tz = index.tz
        self.open = frame["open"].to_numpy(dtype=np.float64)
        self.high = frame["high"].to_numpy(dtype=np.float64)
        self.low = frame["low"].to_numpy(dtype=np.float64)
        self.close = frame["close"].to_numpy(dtype=np.float64)

    def position(self, at: pd.Timestamp | object) -> int:
        """The bar at `at`, or the last before it (a timeline step where this symbol had none)."""
        stamp = pd.Timestamp(at)  # type: ignore[arg-type]
        if stamp.tz is not None and self.tz is None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        elif stamp.tz is None and self.tz is not None:
            stamp = stamp.tz_localize("UTC")
        # Timestamp.value is nanoseconds whatever the unit: read microseconds from datetime64
        micros = int(stamp.to_datetime64().astype("datetime64[us]").astype(np.int64))
        return int(np.searchsorted(self.times, micros, side="right")) - 1


def _reference(fill: Fill) -> float:
    per_unit = fill.slippage / fill.quantity
    return float(fill.price - per_unit if fill.side is OrderSide.BUY else fill.price + per_unit)


def _same(a: float, b: float) -> bool:
    return bool(np.isfinite(b)) and abs(a - b) <= _TOLERANCE * max(abs(a), abs(b), 1.0)


def _where(fill: Fill, bars: _Bars, i: int, timing: FillTiming) -> _At:
    """Where in bar `i` the fill happened: at its open, at its close, or inside it."""
    reference = _reference(fill)
    at_open = _same(reference, float(bars.open[i]))
    at_close = _same(reference, float(bars.close[i]))
    if at_open and at_close:
        return _At.CLOSE if timing is FillTiming.CLOSE else _At.OPEN
    if at_close:
        return _At.CLOSE
    if at_open:
        return _At.OPEN
    return _At.INSIDE


def _measured(
    trade: Trade, fills: Mapping[str, Fill], bars: _Bars, timing: FillTiming
) -> tuple[Decimal, Decimal, int]:
    """MFE, MAE and the bar whose close was the last known at entry (the regime's bar)."""
    entry = bars.position(trade.entry_time)
    at_close = _where(fills[trade.fill_ids[0]], bars, entry, timing) is _At.CLOSE
    first = entry + 1 if at_close else entry
    known = entry if at_close else entry - 1
    if trade.exit_time is not None:
        leave = bars.position(trade.exit_time)
        exit_fill = fills[trade.fill_ids[-1]]
        last = leave - 1 if _where(exit_fill, bars, leave, timing) is _At.OPEN else leave
        end = trade.exit_price
    else:
        last = len(bars.times) - 1
        end = trade.mark_price
    points = [trade.entry_price]
    if end is not None:
        points.append(end)
    if first <= last:
        highs = bars.high[first : last + 1]
        lows = bars.low[first : last + 1]
        if np.isfinite(highs).any():
            points.append(to_decimal(float(np.nanmax(highs))))
        if np.isfinite(lows).any():
            points.append(to_decimal(float(np.nanmin(lows))))
    top, bottom = max(points), min(points)
    if trade.direction is TradeDirection.LONG:
        return top - trade.entry_price, bottom - trade.entry_price, known
    return trade.entry_price - bottom, trade.entry_price - top, known


def with_excursions(
    trades: Sequence[Trade],
    fills: Sequence[Fill],
    frames: Mapping[str, pd.DataFrame],
    timing: FillTiming,
) -> list[Trade]:
    """Copies of `trades` with `mfe`, `mae` and `regime` set; a trade whose symbol has no bars
    in `frames` (or whose fills are not in `fills`) is copied unmeasured.

    `regime` is the causal regime feature (quant_features.regime_points) at the last bar whose
    close was known when the trade entered: the entry bar for a fill at its close, the bar
    before for a fill at the open or inside the bar.
    """
    by_id = {f.fill_id: f for f in fills}
    bars: dict[str, _Bars] = {}
    result: list[Trade] = []
    known_at: dict[str, list[tuple[int, int]]] = {}  # symbol -> (trade's place, regime bar)
    for trade in trades:
        frame = frames.get(trade.symbol)
        if frame is None or len(frame) == 0 or not all(f in by_id for f in trade.fill_ids):
            result.append(dataclasses.replace(trade, fill_ids=list(trade.fill_ids)))
            continue
        symbol_bars = bars.get(trade.symbol)
        if symbol_bars is None:
            symbol_bars = bars[trade.symbol] = _Bars(frame)
        mfe, mae, known = _measured(trade, by_id, symbol_bars, timing)
        known_at.setdefault(trade.symbol, []).append((len(result), known))
        result.append(dataclasses.replace(trade, fill_ids=list(trade.fill_ids), mfe=mfe, mae=mae))
    for symbol, places in known_at.items():
        at = np.array([known for _, known in places], dtype=np.int64)
        b = bars[symbol]
        for (place, _), regime in zip(places, regimes_at(b.high, b.low, b.close, at), strict=True):
            result[place].regime = regime
    return result
