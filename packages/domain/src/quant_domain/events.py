"""Facts the trading loop and brokers report, past tense, one class per fact.

Execution reports are what a broker (simulated or real) tells the loop about an order; the loop
applies them in arrival order: the order's state first (quant_engine.oms), then for a fill the
ledger, the trade log and last the strategy's on_fill. `BarClosed` is what the data side
publishes when a bar is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from quant_domain.bars import Bar
from quant_domain.fills import Fill
from quant_domain.orders import Order


@dataclass(frozen=True, slots=True)
class BarClosed:
    bar: Bar


@dataclass(frozen=True, slots=True)
class OrderSubmitted:
    """The loop sent `order` to a broker (after the risk gate passed it)."""

    order: Order
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    """The broker holds the order as working; `broker_order_id` is its id there."""

    client_order_id: str
    broker_order_id: str
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """The order will never trade: refused by the risk gate (`code` is the rule) or the broker."""

    client_order_id: str
    timestamp: datetime
    reason: str
    code: str = "BROKER_REJECTED"


@dataclass(frozen=True, slots=True)
class OrderFilled:
    """One execution of the order; `fill.fill_id` is the broker's execution id (dedup key)."""

    fill: Fill
    broker_order_id: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    client_order_id: str
    timestamp: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class OrderExpired:
    client_order_id: str
    timestamp: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class OrderStatusUnknown:
    """The broker's answer was ambiguous; the order is looked up by client order id later."""

    client_order_id: str
    timestamp: datetime
    reason: str


ExecutionReport = (
    OrderAccepted | OrderRejected | OrderFilled | OrderCancelled | OrderExpired | OrderStatusUnknown
)
"""What a broker sends back about an order."""

OrderEvent = OrderSubmitted | ExecutionReport
