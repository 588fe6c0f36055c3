"""TradingLoop: the one decision loop of backtest, paper and live.

Per step (a closed bar in live trading, a timeline step in a backtest) `step(now, bars)` hands
each bar to the strategy's on_market_data, asks generate_signals once, lets the strategy size the
signals (risk_check), passes every order through the engine's risk gate and sends what passes to
the broker. The broker answers with execution reports, which `on_report` applies in order: the
order's state (quant_engine.oms), then for a fill the ledger, the trade log, and last the
strategy's on_fill. Only the clock, the bars' source and the broker differ between modes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from quant_domain import (
    Bar,
    Fill,
    KillSwitchMode,
    Order,
    OrderError,
    OrderSide,
    OrderStatus,
    PositionSizing,
    Signal,
)
from quant_domain.events import (
    ExecutionReport,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
)
from quant_domain.instruments import Instrument
from quant_domain.ports import Broker, Clock, OrderJournal
from quant_engine.ledger import Ledger
from quant_engine.oms import ClientOrderIds, OrderRecord
from quant_engine.portfolio import PortfolioReader
from quant_engine.reconciliation import Reconciliation, ReconciliationState, reconcile
from quant_engine.risk_gate import GateLimits, RiskGate, reason_name
from quant_engine.trade_log import TradeLog
from quant_strategy import Strategy


def on_tick(order: Order, instrument: Instrument) -> Order:
    """`order` with its limit and stop prices on the instrument's tick, never more aggressive."""
    limit, stop = order.limit_price, order.stop_price
    if limit is None and stop is None:
        return order
    return dataclasses.replace(
        order,
        limit_price=None if limit is None else instrument.round_price(limit, order.side, "limit"),
        stop_price=None if stop is None else instrument.round_price(stop, order.side, "stop"),
    )


class _State:
    """The MarketState handed to generate_signals; one object, updated in place each step."""

    __slots__ = ("bars", "portfolio", "timestamp")

    def __init__(self, portfolio: PortfolioReader) -> None:
        self.bars: dict[str, Bar] = {}
        self.portfolio = portfolio
        self.timestamp: datetime = datetime.min


class TradingLoop:
    """One strategy's decisions on one account, sent to one broker."""

    def __init__(
        self,
        strategy: Strategy[Any],
        ledger: Ledger,
        broker: Broker,
        clock: Clock,
        *,
        sizing: PositionSizing,
        account: str = "backtest",
        instruments: Mapping[str, Instrument] | None = None,
        tick_prices: bool = False,
        journal: OrderJournal | None = None,
        step_of: Callable[[], int] | None = None,
        cents: bool = True,
    ) -> None:
        """`instruments` says which symbols may be sold short and their tick sizes (unknown
        symbols: shortable, any price); `tick_prices` rounds limit and stop prices to the tick
        before the gate sees them, for brokers that refuse other prices (the simulated broker
        takes any price, so a backtest's prices are the strategy's own). `journal` writes each
        order down before the broker sees it (paper and live; a backtest keeps none). `step_of`
        says which step a fill belongs to (default: `step_index`, which the driver sets);
        `cents` says commissions are billed in cents (the trade log splits them the same way)."""
        self.strategy = strategy
        self.ledger = ledger
        self.broker = broker
        self.clock = clock
        self.journal = journal
        self.account = account
        self.portfolio = PortfolioReader(ledger, sizing)
        self.state = _State(self.portfolio)
        self.trade_log = TradeLog(cents=cents)
        self.fills: list[Fill] = []
        self.orders: list[OrderRecord] = []  # every order, in the order it was decided
        self.notional = Decimal(0)
        self.trading = True  # False during a backtest's warm-up: the strategy sees bars only
        self.step_index = 0  # the driver's step count, for the trade log's bars held
        self._step_of: Callable[[], int] = step_of or (lambda: self.step_index)
        known = instruments or {}
        shortable = [known[s].shortable if s in known else True for s in ledger.symbols]
        self._ticks = {s: i for s, i in known.items() if tick_prices and i.tick_size is not None}
        self.gate = RiskGate(
            GateLimits.from_caps(
                strategy.config.risk, ledger.symbols, shortable, strategy.config.budget
            ),
            ledger.qty,
            ledger.last,
            ledger.held,
        )
        self.reconciliation: Reconciliation | None = None  # None: never compared (a backtest)
        self._gated: dict[str, int] = {}  # client order id -> symbol index, gated and working
        self._facts_at: datetime | None = None
        self._facts = (0.0, False, date.min)
        self._posix_facts: Callable[[], tuple[float, bool, date]] | None = getattr(
            clock, "posix_facts", None
        )
        self._by_id: dict[str, OrderRecord] = {}
        self._ids = ClientOrderIds(account, strategy.config.id)
        self._index = ledger.index
        self._last = ledger.last
        self._seen = self.state.bars
        self._on_market_data = strategy.on_market_data
        self._generate_signals = strategy.generate_signals
        self._on_fill = strategy.on_fill
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            OrderAccepted: self._accepted,
            OrderFilled: self._filled,
            OrderRejected: self._rejected,
            OrderCancelled: self._cancelled,
            OrderExpired: self._expired,
            OrderStatusUnknown: self._unknown,
        }
        broker.set_report_handler(self.on_report)
        self.end_session: Callable[[], None] = strategy.daily_close
        """end_session(): the trading session ended; the strategy rolls its daily state."""
        self.step_one: Callable[[datetime, Bar], None]
        """step_one(now, bar): step(now, (bar,)) for exactly one bar, a little cheaper."""
        self.step: Callable[[datetime, Sequence[Bar]], None] = self._make_step()
        """step(now, bars): take in the bars that closed at `now`, decide, and send what the risk
        gate passes (a closure: the backtest calls it once per step)."""

    # -- the step ------------------------------------------------------------------------------
    def _make_step(self) -> Callable[[datetime, Sequence[Bar]], None]:
        # The per-bar path: a closure reads its cells as cheaply as locals, where attribute
        # lookups on self would cost more than the work (bench/event_loop.py).
        last = self._last
        index = self._index
        seen = self._seen
        state = self.state
        on_market_data = self._on_market_data
        generate_signals = self._generate_signals
        decide = self._decide

        def step(now: datetime, bars: Sequence[Bar]) -> None:
            for bar in bars:
                symbol = bar[0]  # bar.symbol and bar.close: plain tuple indexing is faster
                last[index[symbol]] = bar[5]
                seen[symbol] = bar
                on_market_data(bar)
            state.timestamp = now
            signals = generate_signals(state)
            if signals:
                decide(signals)

        def step_one(now: datetime, bar: Bar) -> None:
            # step(now, (bar,)) without the loop over one bar: a one-symbol backtest's path
            symbol = bar[0]
            last[index[symbol]] = bar[5]
            seen[symbol] = bar
            on_market_data(bar)
            state.timestamp = now
            signals = generate_signals(state)
            if signals:
                decide(signals)

        self.step_one = step_one
        return step

    def _decide(self, signals: list[Signal]) -> None:
        """Size the signals (the strategy's risk_check), gate the batch, send it in order.

        The gate judges the whole batch before anything is sent, reductions first (a batch that
        fits the caps once done then passes order by order), with the equity the sizer used;
        orders then go to the broker in the strategy's order, rejected ones recorded as such.
        """
        if not self.trading:
            return
        orders = self.strategy.risk_check(signals, self.portfolio)
        if not orders:
            return
        gate = self.gate
        now, market_open, _ = self._step_facts()
        equity = self.ledger.equity
        batch = self._batch(orders)
        if len(batch) > 1:  # reductions first; sorted() keeps the strategy's order otherwise
            checks = sorted(batch, key=lambda b: b[0] >= 0 and gate.grows(b[0], b[1]))
        else:
            checks = batch
        verdicts: dict[int, int] = {}
        for k, signed, order in checks:
            if k < 0:
                continue  # not in this account's universe: the broker refuses it
            price = float(order.limit_price or order.stop_price or 0)
            code = gate.check(k, signed, price, equity, now, market_open)
            if code:
                verdicts[id(order)] = code
            else:
                gate.accepted(k, signed, now)
        for k, signed, order in batch:
            code = verdicts.get(id(order), 0) if verdicts else 0
            if code:
                price = float(order.limit_price or order.stop_price or 0)
                message = gate.message(code, k, signed, price, equity)
                self._refuse(order, reason_name(code), message)
            else:
                self.send(order, gated=k >= 0)

    def _batch(self, orders: list[Order]) -> list[tuple[int, float, Order]]:
        """(symbol index or -1, signed quantity, order) per order, prices on the tick if asked."""
        index = self._index
        ticks = self._ticks
        batch = []
        for sized in orders:
            order = on_tick(sized, ticks[sized.symbol]) if sized.symbol in ticks else sized
            quantity = float(order.quantity)
            signed = quantity if order.side is OrderSide.BUY else -quantity
            batch.append((index.get(order.symbol, -1), signed, order))
        return batch

    def _step_facts(self) -> tuple[float, bool, date]:
        """(decision time in POSIX seconds, is the market open then, the session's date), from
        the clock, once per step that sends orders."""
        stamp = self.state.timestamp
        if stamp is not self._facts_at:
            if self._posix_facts is not None:  # a clock that has them precomputed (a backtest's)
                self._facts = self._posix_facts()
            else:
                clock = self.clock
                now = clock.now()
                opened = clock.session_open(now)
                self._facts = (now.timestamp(), clock.is_market_open(now), (opened or now).date())
            self._facts_at = stamp
        return self._facts

    @property
    def now(self) -> datetime:
        """The time of the current step (its bars' timestamp)."""
        return self.state.timestamp

    def reconcile(
        self,
        working: Mapping[str, Order],
        positions: Mapping[str, Decimal],
        at: datetime | None = None,
    ) -> Reconciliation:
        """Compare the broker with what we stored (`working` orders by client order id,
        `positions` by symbol): before the first order and after every reconnect. Until the
        outcome is CLEAN the gate refuses every order (RECONCILIATION_PENDING); a broker that
        cannot be read leaves it refusing and the error goes to the caller. `at` stamps the
        outcome (default: the clock's now; a runner before its first bar passes the wall clock)."""
        self.gate.blocked = True
        outcome = reconcile(self.broker, working, positions, at or self.clock.now())
        self.gate.blocked = outcome.state is not ReconciliationState.CLEAN
        self.reconciliation = outcome
        return outcome

    @property
    def mode(self) -> KillSwitchMode:
        """The kill-switch mode the risk gate enforces on every order."""
        return self.gate.mode

    @mode.setter
    def mode(self, value: KillSwitchMode) -> None:
        self.gate.mode = value

    # -- orders --------------------------------------------------------------------------------
    def _record_new(self, order: Order) -> OrderRecord:
        now = self.state.timestamp
        order = order.with_client_order_id(self._ids.next_id(self._step_facts()[2]))
        record = OrderRecord(order=order, submitted_at=now)
        self.orders.append(record)
        self._by_id[order.client_order_id] = record
        return record

    def _refuse(self, order: Order, code: str, message: str) -> OrderRecord:
        """Record an order the risk gate refused: REJECTED with its rule's code; never sent."""
        record = self._record_new(order)
        record.to(OrderStatus.REJECTED, record.submitted_at, message, code)
        if self.journal is not None:
            at = record.submitted_at
            cid = record.order.client_order_id
            try:
                self.journal.pending(record.order, at)
                self.journal.report(OrderRejected(cid, at, message, code))
            except Exception:  # nothing was sent: the loop's own record still keeps the refusal
                pass
        return record

    def send(self, order: Order, *, gated: bool = False) -> OrderRecord:
        """Record `order` (PENDING_SUBMIT) under a deterministic client order id and send it.

        `gated` says the risk gate passed it and counts it as pending; the engine's own closing
        orders (end-of-run liquidation, flatten) are sent ungated: they only reduce.
        """
        record = self._record_new(order)
        if gated:
            self._gated[record.order.client_order_id] = self._index[order.symbol]
        if self.journal is not None:
            try:
                self.journal.pending(record.order, record.submitted_at)
            except Exception as exc:  # whatever the store says, fail closed: do not send
                record.to(
                    OrderStatus.REJECTED,
                    record.submitted_at,
                    f"not sent: the order could not be recorded first ({exc})",
                    "JOURNAL_UNAVAILABLE",
                )
                self._ended(record)
                return record
        record.status = OrderStatus.SUBMITTED  # PENDING_SUBMIT -> SUBMITTED: always legal
        self.broker.submit(record.order)
        return record

    def adopt(self, order: Order, at: datetime) -> OrderRecord:
        """Take in an order working at the broker that this loop did not send (an admin's adopt
        after reconciliation): recorded as ACCEPTED and counted by the gate as pending, so its
        fills, cancellation or expiry apply like any other order's. Nothing is sent."""
        record = OrderRecord(order=order, submitted_at=at, status=OrderStatus.ACCEPTED)
        cid = order.client_order_id
        self.orders.append(record)
        self._by_id[cid] = record
        k = self._index.get(order.symbol)
        if k is not None:
            self._gated[cid] = k
            quantity = float(order.quantity)
            signed = quantity if order.side is OrderSide.BUY else -quantity
            self.gate.accepted(k, signed, at.timestamp())
        return record

    def flatten(self, reason: str, tradable: Callable[[str], bool] | None = None) -> None:
        """Cancel every working order, then close every position (in the ledger's symbol order)."""
        for order in self.broker.open_orders():
            self.broker.cancel(order.client_order_id, reason)
        for symbol in self.ledger.symbols:
            quantity = self.ledger.positions[symbol].quantity
            if quantity == 0 or (tradable is not None and not tradable(symbol)):
                continue
            closing = Order(
                symbol=symbol,
                side=OrderSide.SELL if quantity > 0 else OrderSide.BUY,
                quantity=abs(quantity),
                strategy_id=self.strategy.config.id,
                created_at=self.now,
                reason=reason,
            )
            self.send(closing)

    # -- execution reports ---------------------------------------------------------------------
    def on_report(self, report: ExecutionReport) -> None:
        """Apply one execution report from the broker (stored first, when there is a journal)."""
        if self.journal is not None:
            self.journal.report(report)
        self._handlers[type(report)](report)

    def _record(self, client_order_id: str) -> OrderRecord:
        record = self._by_id.get(client_order_id)
        if record is None:
            raise OrderError(f"execution report for unknown order {client_order_id}")
        return record

    def _accepted(self, report: OrderAccepted) -> None:
        record = self._record(report.client_order_id)
        record.broker_order_id = report.broker_order_id
        record.to(OrderStatus.ACCEPTED, report.timestamp)

    def _filled(self, report: OrderFilled) -> None:
        fill = report.fill
        record = self._record(fill.client_order_id)
        if not record.apply_fill(fill):
            return  # the same execution reported twice
        if report.broker_order_id and record.broker_order_id is None:
            record.broker_order_id = report.broker_order_id
        ledger = self.ledger
        position = ledger.positions[fill.symbol].quantity
        realized = ledger.apply(fill)
        k = self._gated.get(fill.client_order_id)
        if k is not None:
            quantity = float(fill.quantity)
            self.gate.filled(k, quantity if fill.side is OrderSide.BUY else -quantity)
            if record.status is OrderStatus.FILLED:
                del self._gated[fill.client_order_id]
        self.trade_log.on_fill(fill, position, realized, self._step_of())
        self.fills.append(fill)
        self.notional += fill.notional
        self._on_fill(fill)

    def _ended(self, record: OrderRecord) -> None:
        """A working order ended unfilled (in part): the gate stops counting the rest as pending."""
        k = self._gated.pop(record.order.client_order_id, None)
        if k is not None:
            rest = float(record.remaining)
            self.gate.released(k, rest if record.order.side is OrderSide.BUY else -rest)

    def _rejected(self, report: OrderRejected) -> None:
        record = self._record(report.client_order_id)
        record.to(OrderStatus.REJECTED, report.timestamp, report.reason, report.code)
        self._ended(record)

    def _cancelled(self, report: OrderCancelled) -> None:
        record = self._record(report.client_order_id)
        record.to(OrderStatus.CANCELLED, report.timestamp, report.reason)
        self._ended(record)

    def _expired(self, report: OrderExpired) -> None:
        record = self._record(report.client_order_id)
        record.to(OrderStatus.EXPIRED, report.timestamp, report.reason)
        self._ended(record)

    def _unknown(self, report: OrderStatusUnknown) -> None:
        self._record(report.client_order_id).to(
            OrderStatus.UNKNOWN, report.timestamp, report.reason
        )
