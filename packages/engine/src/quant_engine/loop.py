"""The event-driven loop shared by every mode: bars in, signals, orders, fills, equity out.

Per step t: fill working orders that the bar at t reaches (next-open market orders, limits,
stops), hand each symbol's bar to on_market_data, ask generate_signals once, size the signals
with risk_check, execute (market orders at the close of t unless fill timing is next-open),
mark equity at the closes of t, and call daily_close after the last step of a trading day.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_domain import (
    Bar,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    Trade,
    to_cents,
    to_decimal,
)
from quant_domain.sizing import FRACTION_STEP
from quant_engine.config import BacktestConfig, FillTiming
from quant_engine.fill_models import working_reference
from quant_engine.ledger import Ledger
from quant_engine.oms import OrderBook, OrderRecord
from quant_engine.timeline import Timeline
from quant_engine.trade_log import TradeLog
from quant_strategy import Strategy

Progress = Callable[[int, int], None]
StepObserver = Callable[[int, "BacktestEngine"], None]
FloatArray = npt.NDArray[np.float64]
_BPS = Decimal(10_000)


class _State:
    """The MarketState handed to generate_signals; one object, updated in place each step."""

    __slots__ = ("bars", "portfolio", "timestamp")

    def __init__(self, ledger: Ledger) -> None:
        self.bars: dict[str, Bar] = {}
        self.portfolio = ledger
        self.timestamp: datetime = datetime.min


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


class BacktestEngine:
    """Runs one strategy over one timeline under one BacktestConfig."""

    def __init__(self, config: BacktestConfig) -> None:
        self.config = config
        self._slip = config.slippage_bps / _BPS
        self._slip_f = float(self._slip)
        self._costs = config.costs

    # -- setup -----------------------------------------------------------------------------
    def _reset(self, strategy: Strategy[Any], timeline: Timeline) -> None:
        self.strategy = strategy
        self.timeline = timeline
        self.ledger = Ledger(
            timeline.symbols, self.config.initial_capital, self.config.sizing, self._costs
        )
        self.book = OrderBook()
        self.trade_log = TradeLog()
        self.fills: list[Fill] = []
        self.notional = Decimal(0)
        self._fill_count = 0
        self.step = 0
        self.day = 0  # trading days completed so far; DAY orders expire by this count
        self.now: datetime = timeline.times[0]

    # -- execution -------------------------------------------------------------------------
    def submit(self, order: Order) -> OrderRecord:
        """Accept an order at the current step: fill it now (market at close) or keep it working."""
        i = self.step
        record = OrderRecord(
            order=order, submitted_at=self.now, status=OrderStatus.ACCEPTED, eligible_step=i + 1
        )
        k = self.ledger.index.get(order.symbol)
        if k is None:
            record.to(OrderStatus.REJECTED, self.now, f"{order.symbol} is not in this run's data")
            self.book.add(record)
            return record
        if order.type is OrderType.MARKET and self.config.fill_timing is FillTiming.CLOSE:
            close = self.timeline.closes[k][i]
            if math.isnan(close):  # the symbol has no bar at this step
                record.to(OrderStatus.REJECTED, self.now, f"no {order.symbol} bar at this step")
            else:
                self._execute(record, close)
        self.book.add(record)
        return record

    def _execute(self, record: OrderRecord, reference: float) -> None:
        order = record.order
        buy = order.side is OrderSide.BUY
        ref = to_decimal(reference)
        price = ref * (1 + self._slip) if buy else ref * (1 - self._slip)
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.limit_price is not None:
            price = min(price, order.limit_price) if buy else max(price, order.limit_price)
        quantity = order.quantity
        position = self.ledger.positions[order.symbol].quantity
        if buy and not self.config.allow_margin:
            quantity = self._affordable(quantity, price, position)
            if quantity <= 0:
                record.to(OrderStatus.REJECTED, self.now, "insufficient cash")
                return
        commission = to_cents(self._costs.commission(quantity * price))
        self._fill_count += 1
        fill = Fill(
            fill_id=f"f-{self._fill_count}",
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=quantity,
            price=price,
            commission=commission,
            timestamp=self.now,
            slippage=abs(price - ref) * quantity,
            strategy_id=order.strategy_id,
        )
        realized = self.ledger.apply(fill)
        self.trade_log.on_fill(fill, position, realized, self.step)
        self.fills.append(fill)
        self.notional += fill.notional
        record.apply_fill(fill)
        if quantity != order.quantity:
            record.to(OrderStatus.FILLED, self.now, f"resized from {order.quantity} to fit cash")
        self.strategy.on_fill(fill)

    def _affordable(self, quantity: Decimal, price: Decimal, position: Decimal) -> Decimal:
        """Largest quantity <= `quantity` whose purchase keeps cash >= 0 (closing shorts always allowed)."""
        cash = self.ledger.cash_dec
        cost = quantity * price + to_cents(self._costs.commission(quantity * price))
        if cash - cost >= 0:
            return quantity
        rate = 1 + self._costs.commission_bps / _BPS
        room = (cash - self._costs.commission_per_trade) / (price * rate)
        if self.config.sizing.fractional:
            room = room.quantize(FRACTION_STEP, rounding="ROUND_DOWN")
        else:
            room = Decimal(int(room)) if room > 0 else Decimal(0)
        cover = -position if position < 0 else Decimal(0)
        best = max(min(room, quantity), min(cover, quantity))
        # commission rounding can still tip a boundary quantity over; step down until it fits
        unit = FRACTION_STEP if self.config.sizing.fractional else Decimal(1)
        while (
            best > cover
            and cash - best * price - to_cents(self._costs.commission(best * price)) < 0
        ):
            best -= unit
        return max(best, Decimal(0))

    def _match_working(self) -> None:
        i = self.step
        tl = self.timeline
        for record in self.book.working:
            if record.status.is_final or i < record.eligible_step:
                continue
            order = record.order
            k = self.ledger.index[order.symbol]
            open_ = tl.opens[k][i]
            if math.isnan(open_):
                continue
            if record.expires_session is None:
                record.expires_session = self.day
            if order.type is OrderType.MARKET:
                self._execute(record, open_)
                continue
            reference, triggered = working_reference(
                order.type,
                order.side,
                float(order.limit_price or 0),
                float(order.stop_price or 0),
                record.triggered,
                open_,
                tl.highs[k][i],
                tl.lows[k][i],
            )
            record.triggered = record.triggered or triggered
            if reference > 0:
                self._execute(record, reference)
            elif order.time_in_force is TimeInForce.IOC:
                record.to(OrderStatus.CANCELLED, self.now, "IOC: not fillable on its first bar")
        self.book.prune()

    def _expire_day_orders(self) -> None:
        day = self.day
        for record in self.book.working:
            if (
                not record.status.is_final
                and record.order.time_in_force is TimeInForce.DAY
                and record.expires_session == day
            ):
                record.to(OrderStatus.EXPIRED, self.now, "DAY order unfilled at the end of its day")
        self.book.prune()

    # -- the loop --------------------------------------------------------------------------
    # One flat body on purpose: the per-bar path reads hoisted locals (a method call per bar
    # costs more than the work; bench/event_loop.py). Issue 11 reshapes it into TradingLoop.step.
    def run(  # noqa: PLR0912, PLR0915
        self,
        strategy: Strategy[Any],
        timeline: Timeline,
        progress: Progress | None = None,
        observer: StepObserver | None = None,
        trade_from: int = 0,
    ) -> EngineRun:
        """Run `strategy` (already initialised) over `timeline` and return the raw result.

        Steps before `trade_from` are warm-up: the strategy sees their bars and may signal, but
        risk_check is not called and nothing trades; the result starts at `trade_from`.
        """
        if not 0 <= trade_from < len(timeline):
            raise ValueError(
                f"trade_from {trade_from} is outside the timeline of {len(timeline)} steps"
            )
        self._reset(strategy, timeline)
        liquidate_at = len(timeline) - 1 if self.config.liquidate_at_end else -1
        tl = timeline
        n = len(tl)
        ledger = self.ledger
        book = self.book
        state = _State(ledger)
        bars = state.bars
        last = ledger.last
        qty = ledger.qty
        held = ledger.held
        on_market_data = strategy.on_market_data
        generate_signals = strategy.generate_signals
        risk_check = strategy.risk_check
        daily_close = strategy.daily_close
        symbols = tl.symbols
        m = len(symbols)
        present = tl.present
        times, day_end = tl.times, tl.day_end
        opens, highs, lows, closes, volumes = tl.opens, tl.highs, tl.lows, tl.closes, tl.volumes
        every_symbol = list(range(m))
        equity = array("d", bytes(8 * n))
        cash = array("d", bytes(8 * n))
        positions_value = array("d", bytes(8 * n))
        gross = array("d", bytes(8 * n))
        report_every = max(n // 100, 1)
        for i in range(n):
            ts = times[i]
            self.step = i
            self.now = ts
            if book.working:
                self._match_working()
            for k in every_symbol if present is None else present[i]:
                symbol = symbols[k]
                close = closes[k][i]
                bar = Bar(symbol, ts, opens[k][i], highs[k][i], lows[k][i], close, volumes[k][i])
                last[k] = close
                bars[symbol] = bar
                on_market_data(bar)
            state.timestamp = ts
            signals = generate_signals(state)
            if signals and i >= trade_from:
                for order in risk_check(signals, ledger):
                    self.submit(order)
            if i == liquidate_at:
                self._liquidate()
            value = 0.0
            gross_value = 0.0
            for k in held:
                v = qty[k] * last[k]
                value += v
                gross_value += v if v >= 0.0 else -v
            account = ledger.cash
            equity[i] = account + value
            cash[i] = account
            positions_value[i] = value
            gross[i] = gross_value
            if day_end[i]:
                if book.working:
                    self._expire_day_orders()
                self.day += 1
                daily_close()
            if observer is not None:
                observer(i, self)
            if progress is not None and (i + 1) % report_every == 0:
                progress(i + 1, n)
        if progress is not None and n % report_every:
            progress(n, n)
        return self._finish(tl, equity, cash, positions_value, gross, trade_from)

    def _finish(
        self,
        tl: Timeline,
        equity: array[float],
        cash: array[float],
        positions_value: array[float],
        gross: array[float],
        trade_from: int,
    ) -> EngineRun:
        for record in self.book.working:
            if not record.status.is_final:
                record.to(OrderStatus.CANCELLED, self.now, "still working when the data ended")
        k = trade_from
        eq = np.frombuffer(equity, dtype=np.float64)[k:].copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            exposure = np.where(eq > 0, np.frombuffer(gross, dtype=np.float64)[k:] / eq, 0.0)
        ledger = self.ledger
        marks = {s: to_decimal(ledger.last[ledger.index[s]]) for s in ledger.held_symbols()}
        trades = self.trade_log.closed + self.trade_log.open_trades(
            len(tl) - 1, ledger.positions, marks
        )
        return EngineRun(
            index=tl.index[k:],
            equity=eq,
            cash=np.frombuffer(cash, dtype=np.float64)[k:].copy(),
            positions_value=np.frombuffer(positions_value, dtype=np.float64)[k:].copy(),
            gross_exposure=exposure,
            fills=self.fills,
            trades=trades,
            orders=self.book.records,
            final_cash=self.ledger.cash_dec,
            final_positions={s: p.quantity for s, p in self.ledger.positions.items() if p.quantity},
            final_equity=self.ledger.equity_decimal(),
            total_fees=self.ledger.fees_dec,
            traded_notional=self.notional,
            bars_processed=tl.bar_count,
        )

    def _liquidate(self) -> None:
        """Close every open position at this step's close (costs apply), whatever the fill timing.

        Positions close in the timeline's symbol order, so a run's last fills are predictable.
        """
        for symbol in self.timeline.symbols:
            k = self.ledger.index[symbol]
            close = self.timeline.closes[k][self.step]
            quantity = self.ledger.positions[symbol].quantity
            if math.isnan(close) or quantity == 0:
                continue
            order = Order(
                symbol=symbol,
                side=OrderSide.SELL if quantity > 0 else OrderSide.BUY,
                quantity=abs(quantity),
                strategy_id=self.strategy.config.id,
                created_at=self.now,
                reason="liquidated at the end of the run",
            )
            record = OrderRecord(
                order=order,
                submitted_at=self.now,
                status=OrderStatus.ACCEPTED,
                eligible_step=self.step,
            )
            self._execute(record, close)
            self.book.add(record)
