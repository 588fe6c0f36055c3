"""The ports the trading loop is written against: a clock and a broker (typing only, no I/O).

Backtest, paper and live share the loop; only the implementations behind these ports change:
a simulated clock over a calendar's sessions and the SimulatedBroker in a backtest, the wall
clock and a real broker's adapter in live trading. Engine and adapters both import these, so
neither depends on the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from quant_domain.events import ExecutionReport
from quant_domain.orders import Order


class Clock(Protocol):
    """Time and the market's trading sessions, as one mode sees them."""

    def now(self) -> datetime:
        """The current time (UTC): a step's decision time in a backtest, the wall clock live."""
        ...

    def session_open(self, at: datetime) -> datetime | None:
        """Open of the session that `at` falls in, or of the next one (None past the calendar)."""
        ...

    def session_close(self, at: datetime) -> datetime | None:
        """Close of the session that `at` falls in, or of the next one (None past the calendar)."""
        ...

    def is_market_open(self, at: datetime) -> bool:
        """True while a session is open at `at` (its close included)."""
        ...


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """What a broker says the account holds."""

    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    timestamp: datetime


ReportHandler = Callable[[ExecutionReport], None]
"""Where a broker delivers execution reports; the loop installs one before the first order."""


class Broker(Protocol):
    """Where orders go. Outcomes come back as execution reports, never as return values.

    `submit` and `cancel` only send; acceptance, fills, cancellations and rejections arrive
    through the installed report handler (synchronously for the simulated broker, from the
    adapter's stream live). A broker never calls a strategy.
    """

    def set_report_handler(self, handler: ReportHandler) -> None: ...

    def submit(self, order: Order) -> None:
        """Send `order`; its client order id makes a repeated submit a no-op at the broker."""
        ...

    def cancel(self, client_order_id: str, reason: str = "") -> None:
        """Ask for the order to be cancelled; the answer arrives as a report."""
        ...

    def open_orders(self) -> list[Order]:
        """Orders still working at the broker."""
        ...

    def positions(self) -> Mapping[str, Decimal]:
        """Signed quantity per symbol, non-zero positions only."""
        ...

    def account(self) -> AccountSnapshot: ...


ConnectionHandler = Callable[[bool, str], None]
"""Told `(connected, detail)` whenever a live broker's link goes down or comes back."""


@dataclass(frozen=True, slots=True)
class BrokerAccountSummary:
    """What `quant brokers check` prints: who we are connected to, never a key."""

    broker: str
    endpoint: str
    account_id: str
    status: str
    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    can_trade: bool
    paper: bool


class LiveBroker(Broker, Protocol):
    """A real broker's adapter (Alpaca, Interactive Brokers): the Broker port plus a link.

    Threading contract: `connect` and `close` block; `submit` and `cancel` never block on the
    network (the adapter sends from its own thread or task) and outcomes arrive as execution
    reports, delivered to the installed handler from the adapter's thread, in order per order.
    An ambiguous submit (timeout, 5xx, a duplicate client order id) is reported as
    OrderStatusUnknown and resolved by looking the order up by its client order id, never by
    sending it again. While the link is down `submit` sends nothing and reports OrderRejected
    with code BROKER_UNAVAILABLE (fail closed). After every reconnect the adapter recovers the
    fills it missed (reports carry the broker's execution id, so a repeat is ignored) and then
    calls the connection handler with `connected=True`, so the runner reconciles before it
    trades again.
    """

    name: str

    def connect(self, timeout: float = 10.0) -> None:
        """Authenticate, open the streams and load the state; raises BrokerUnavailable."""
        ...

    def close(self) -> None: ...

    @property
    def connected(self) -> bool: ...

    def set_connection_handler(self, handler: ConnectionHandler) -> None: ...

    def summary(self) -> BrokerAccountSummary:
        """The account as the broker sees it (no order is placed); raises BrokerUnavailable."""
        ...


class OrderJournal(Protocol):
    """Where a live or paper loop writes its orders down before a broker sees them.

    `pending` must have committed the order's row (state PENDING_SUBMIT, its client order id)
    when it returns, and raise when it cannot: the loop then refuses the order rather than send
    something it has no record of (fail closed). `report` stores each execution report the
    broker sends back; an error there is the runner's to handle (stop, reconcile), never skipped.
    """

    def pending(self, order: Order, at: datetime) -> None: ...

    def report(self, report: ExecutionReport) -> None: ...
