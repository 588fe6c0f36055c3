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


class OrderJournal(Protocol):
    """Where a live or paper loop writes its orders down before a broker sees them.

    `pending` must have committed the order's row (state PENDING_SUBMIT, its client order id)
    when it returns, and raise when it cannot: the loop then refuses the order rather than send
    something it has no record of (fail closed). `report` stores each execution report the
    broker sends back; an error there is the runner's to handle (stop, reconcile), never skipped.
    """

    def pending(self, order: Order, at: datetime) -> None: ...

    def report(self, report: ExecutionReport) -> None: ...
