"""TradingLoop: the one decision loop of backtest, paper and live.

Per step (a closed bar in live trading, a timeline step in a backtest) `step(now, bars)` hands
each bar to the strategy's on_market_data, asks generate_signals once, lets the strategy size the
signals (risk_check), passes every order through the engine's risk gate and sends what passes to
the broker. The broker answers with execution reports, which `on_report` applies in order: the
order's state (quant_engine.oms), then for a fill the ledger, the trade log, and last the
strategy's on_fill. Only the clock, the bars' source and the broker differ between modes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
from quant_domain.ports import Broker, Clock
from quant_engine.ledger import Ledger
from quant_engine.oms import ClientOrderIds, OrderRecord
from quant_engine.portfolio import PortfolioReader
from quant_engine.trade_log import TradeLog
from quant_strategy import Strategy


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
    ) -> None:
        self.strategy = strategy
        self.ledger = ledger
        self.broker = broker
        self.clock = clock
        self.account = account
        self.portfolio = PortfolioReader(ledger, sizing)
        self.state = _State(self.portfolio)
        self.trade_log = TradeLog()
        self.fills: list[Fill] = []
        self.orders: list[OrderRecord] = []  # every order, in the order it was decided
        self.notional = Decimal(0)
        self.trading = True  # False during a backtest's warm-up: the strategy sees bars only
        self.step_index = 0  # the driver's step count, for the trade log's bars held
        self.mode = KillSwitchMode.ACTIVE
        self._by_id: dict[str, OrderRecord] = {}
        self._ids = ClientOrderIds(account, strategy.config.id)
        self._dated_at: datetime | None = None
        self._session_day = date.min
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

        return step

    def _decide(self, signals: list[Signal]) -> None:
        if self.trading:
            for order in self.strategy.risk_check(signals, self.portfolio):
                self.send(order)

    @property
    def now(self) -> datetime:
        """The time of the current step (the decision time of its bars)."""
        return self.state.timestamp

    # -- orders --------------------------------------------------------------------------------
    def _session_date(self) -> date:
        """The date of the session this decision is taken in (its open's UTC date)."""
        stamp = self.state.timestamp
        if stamp is not self._dated_at:  # asked once per step that sends orders
            clock = self.clock
            now = clock.now()
            opened = clock.session_open(now)
            self._session_day = (opened or now).date()
            self._dated_at = stamp
        return self._session_day

    def send(self, order: Order, *, engine: bool = False) -> OrderRecord:
        """Record `order` (PENDING_SUBMIT) under a deterministic client order id and send it.

        `engine` marks the engine's own closing orders (end-of-run liquidation, flatten); every
        other order passes the risk gate first, and a rejected one is recorded with its reason.
        """
        del engine
        now = self.state.timestamp
        order = order.with_client_order_id(self._ids.next_id(self._session_date()))
        record = OrderRecord(order=order, submitted_at=now)
        self.orders.append(record)
        self._by_id[order.client_order_id] = record
        record.status = OrderStatus.SUBMITTED  # PENDING_SUBMIT -> SUBMITTED: always legal
        self.broker.submit(order)
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
            self.send(closing, engine=True)

    # -- execution reports ---------------------------------------------------------------------
    def on_report(self, report: ExecutionReport) -> None:
        """Apply one execution report from the broker."""
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
        self.trade_log.on_fill(fill, position, realized, self.step_index)
        self.fills.append(fill)
        self.notional += fill.notional
        self._on_fill(fill)

    def _rejected(self, report: OrderRejected) -> None:
        self._record(report.client_order_id).to(
            OrderStatus.REJECTED, report.timestamp, report.reason, report.code
        )

    def _cancelled(self, report: OrderCancelled) -> None:
        self._record(report.client_order_id).to(
            OrderStatus.CANCELLED, report.timestamp, report.reason
        )

    def _expired(self, report: OrderExpired) -> None:
        self._record(report.client_order_id).to(
            OrderStatus.EXPIRED, report.timestamp, report.reason
        )

    def _unknown(self, report: OrderStatusUnknown) -> None:
        self._record(report.client_order_id).to(
            OrderStatus.UNKNOWN, report.timestamp, report.reason
        )
