"""SimulatedBroker: the Broker port over bars, with the fill models, costs and buying power.

It is the exchange of a backtest (and, later, of paper trading on live bars): it holds working
orders, fills them from the bars it is shown, and reports every outcome as an execution report
to the handler the trading loop installed. It never calls a strategy and never books a fill:
the loop applies the reports (order state, ledger, trade log, then the strategy's on_fill).

Buying power is read from the account the loop keeps (the same ledger in a backtest), so a buy
that does not fit the cash is cut to what fits (the rest is cancelled) or rejected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

from quant_domain import (
    CostModel,
    Fill,
    Order,
    OrderSide,
    OrderType,
    TimeInForce,
    to_cents,
    to_decimal,
)
from quant_domain.events import (
    ExecutionReport,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from quant_domain.ports import AccountSnapshot, ReportHandler
from quant_domain.sizing import FRACTION_STEP
from quant_engine.config import BacktestConfig, FillTiming
from quant_engine.fill_models import working_reference
from quant_engine.ledger import Ledger
from quant_engine.sim.clock import TimelineClock
from quant_engine.timeline import Timeline

_BPS = Decimal(10_000)


def _ignore(report: ExecutionReport) -> None:
    del report


def _biller(costs: CostModel, *, cents: bool) -> Callable[[Decimal], Decimal]:
    """BacktestConfig.bill over one CostModel built once (the config builds one per call)."""
    commission = costs.commission
    if not cents:
        return commission

    def bill(notional: Decimal) -> Decimal:
        return to_cents(commission(notional))

    return bill


class _Working:
    """An order the simulated exchange holds: when it may first fill, and its session.

    `expires_session` is the session a DAY limit or stop order lives in (None: it does not
    expire): the session it was placed in when placed during one, the next session when placed
    at a daily bar's close. A market order fills at its first eligible bar (the next open),
    whatever its time in force.
    """

    __slots__ = ("eligible_step", "expires_session", "order", "triggered")

    def __init__(self, order: Order, eligible_step: int, expires_session: int | None) -> None:
        self.order = order
        self.eligible_step = eligible_step
        self.expires_session = expires_session
        self.triggered = False


class SimulatedBroker:
    """Fills orders from a timeline's bars under one BacktestConfig (the Broker port)."""

    def __init__(
        self, config: BacktestConfig, timeline: Timeline, account: Ledger, clock: TimelineClock
    ) -> None:
        self.config = config
        self._timeline = timeline
        self._account = account
        self._slip = config.slippage_bps / _BPS
        # the factors a reference price is moved by (Decimal, exact: 1 +/- slip once per run)
        self._buy_factor = 1 + self._slip
        self._sell_factor = 1 - self._slip
        self._costs = config.costs
        self._bill = _biller(self._costs, cents=config.cents)
        self._close_fills = config.fill_timing is FillTiming.CLOSE
        self._report: ReportHandler = _ignore
        self.working: list[_Working] = []
        self._times = timeline.times
        self._clock = clock  # the driver's current step; the time is the timeline's at that step
        self._session = timeline.session
        self._daily = 1 if timeline.daily else 0  # a daily bar's orders are for the next session
        self.fill_at_close = False  # the driver's end-of-run liquidation fills at this close
        self._fills = 0
        self._orders = 0

    @property
    def step(self) -> int:
        return self._clock.step

    @property
    def now(self) -> datetime:
        """The bar time of the current step: what fills and reports are stamped with."""
        return self._times[self._clock.step]

    # -- the Broker port ---------------------------------------------------------------------
    def set_report_handler(self, handler: ReportHandler) -> None:
        self._report = handler

    def submit(self, order: Order) -> None:
        """Accept `order` at the current step: fill it now (market at close) or keep it working."""
        now = self.now
        cid = order.client_order_id
        k = self._account.index.get(order.symbol)
        if k is None:
            self._report(
                OrderRejected(
                    cid, now, f"{order.symbol} is not in this run's data", "UNKNOWN_SYMBOL"
                )
            )
            return
        if order.type is OrderType.MARKET and (self._close_fills or self.fill_at_close):
            close = self._timeline.closes[k][self.step]
            if math.isnan(close):  # the symbol has no bar at this step
                self._report(
                    OrderRejected(cid, now, f"no {order.symbol} bar at this step", "NO_BAR")
                )
            else:
                self._execute(order, close, accept=True)
            return
        self._accept(cid)
        expires = None
        if order.time_in_force is TimeInForce.DAY and order.type is not OrderType.MARKET:
            expires = self._session[self.step] + self._daily
        self.working.append(_Working(order, self.step + 1, expires))

    def cancel(self, client_order_id: str, reason: str = "") -> None:
        for item in self.working:
            if item.order.client_order_id == client_order_id:
                self.working.remove(item)
                self._report(OrderCancelled(client_order_id, self.now, reason or "cancelled"))
                return

    def open_orders(self) -> list[Order]:
        return [item.order for item in self.working]

    def positions(self) -> Mapping[str, Decimal]:
        return {s: p.quantity for s, p in self._account.positions.items() if p.quantity}

    def account(self) -> AccountSnapshot:
        cash = self._account.cash_dec
        equity = self._account.equity_decimal()
        return AccountSnapshot(
            cash=cash,
            equity=equity,
            buying_power=equity if self.config.allow_margin else max(cash, Decimal(0)),
            timestamp=self.now,
        )

    # -- the exchange ------------------------------------------------------------------------
    def _accept(self, client_order_id: str) -> None:
        self._orders += 1
        self._report(OrderAccepted(client_order_id, f"sim-{self._orders}", self.now))

    def _execute(self, order: Order, reference: float, *, accept: bool = False) -> None:
        """Fill `order` at `reference` moved by slippage; `accept` first for an order not yet held."""
        buy = order.side is OrderSide.BUY
        ref = to_decimal(reference)
        price = ref * self._buy_factor if buy else ref * self._sell_factor
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.limit_price is not None:
            price = min(price, order.limit_price) if buy else max(price, order.limit_price)
        quantity = order.quantity
        if buy and not self.config.allow_margin:
            position = self._account.positions[order.symbol].quantity
            quantity = self._affordable(quantity, price, position)
            if quantity <= 0:
                self._report(
                    OrderRejected(
                        order.client_order_id, self.now, "insufficient cash", "INSUFFICIENT_CASH"
                    )
                )
                return
        broker_order_id = ""
        if accept:  # filled on arrival: the fill report carries the broker's order id
            self._orders += 1
            broker_order_id = f"sim-{self._orders}"
        self._fills += 1
        fill = Fill(
            fill_id=f"f-{self._fills}",
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=quantity,
            price=price,
            commission=self._bill(quantity * price),
            timestamp=self.now,
            slippage=abs(price - ref) * quantity,
            strategy_id=order.strategy_id,
        )
        self._report(OrderFilled(fill, broker_order_id))
        if quantity != order.quantity:
            self._report(
                OrderCancelled(
                    order.client_order_id,
                    self.now,
                    f"resized from {order.quantity} to {quantity} to fit cash;"
                    f" the other {order.quantity - quantity} were cancelled",
                )
            )

    def _affordable(self, quantity: Decimal, price: Decimal, position: Decimal) -> Decimal:
        """Largest quantity <= `quantity` whose purchase keeps cash >= 0 (closing shorts always allowed)."""
        costs = self._costs
        cash = self._account.cash_dec
        bill = self._bill
        cost = quantity * price + bill(quantity * price)
        if cash - cost >= 0:
            return quantity
        rate = 1 + costs.commission_bps / _BPS
        room = (cash - costs.commission_per_trade) / (price * rate)
        fractional = self.config.sizing.fractional
        if fractional:
            room = room.quantize(FRACTION_STEP, rounding="ROUND_DOWN")
        else:
            room = Decimal(int(room)) if room > 0 else Decimal(0)
        cover = -position if position < 0 else Decimal(0)
        best = max(min(room, quantity), min(cover, quantity))
        # commission rounding can still tip a boundary quantity over; step down until it fits
        unit = FRACTION_STEP if fractional else Decimal(1)
        while best > cover and cash - best * price - bill(best * price) < 0:
            best -= unit
        return max(best, Decimal(0))

    def match(self, step: int) -> None:
        """Fill the working orders that this step's bar reaches (next-open markets, limits, stops)."""
        now = self._times[step]
        session = self._session[step]
        tl = self._timeline
        index = self._account.index
        keep: list[_Working] = []
        for item in self.working:
            order = item.order
            if item.expires_session is not None and session > item.expires_session:
                self._expire(item)  # its session had no bar of this data: it ended unseen
                continue
            if step < item.eligible_step:
                keep.append(item)
                continue
            k = index[order.symbol]
            open_ = tl.opens[k][step]
            if math.isnan(open_):
                keep.append(item)
                continue
            if order.type is OrderType.MARKET:
                self._execute(order, open_)
                continue
            reference, triggered = working_reference(
                order.type,
                order.side,
                float(order.limit_price or 0),
                float(order.stop_price or 0),
                item.triggered,
                open_,
                tl.highs[k][step],
                tl.lows[k][step],
            )
            item.triggered = item.triggered or triggered
            if reference > 0:
                self._execute(order, reference)
            elif order.time_in_force is TimeInForce.IOC:
                self._report(
                    OrderCancelled(order.client_order_id, now, "IOC: not fillable on its first bar")
                )
            else:
                keep.append(item)
        self.working = keep

    def _expire(self, item: _Working) -> None:
        session = item.expires_session
        assert session is not None
        self._report(
            OrderExpired(
                item.order.client_order_id,
                self._timeline.session_close_at(session),
                "DAY order unfilled at the close of its session",
            )
        )

    def end_session(self, step: int) -> None:
        """Step `step` is the last of its session in the data: that session's DAY orders expire."""
        session = self._session[step]
        keep: list[_Working] = []
        for item in self.working:
            if item.expires_session is not None and item.expires_session <= session:
                self._expire(item)
            else:
                keep.append(item)
        self.working = keep

    def cancel_all(self, reason: str) -> None:
        """Cancel every working order (the data ended, or the kill switch flattens)."""
        working, self.working = self.working, []
        for item in working:
            self._report(OrderCancelled(item.order.client_order_id, self.now, reason))
