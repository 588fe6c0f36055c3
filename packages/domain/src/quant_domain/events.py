"""Events the trading loop emits; past tense, one class per fact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from quant_domain.bars import Bar
from quant_domain.fills import Fill
from quant_domain.orders import Order
from quant_domain.signals import Signal


@dataclass(frozen=True, slots=True)
class BarClosed:
    bar: Bar


@dataclass(frozen=True, slots=True)
class SignalGenerated:
    signal: Signal


@dataclass(frozen=True, slots=True)
class OrderSubmitted:
    order: Order
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class OrderFilled:
    order: Order
    fill: Fill


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    order: Order
    timestamp: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class OrderExpired:
    order: Order
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class OrderRejected:
    order: Order
    timestamp: datetime
    reason: str


OrderEvent = OrderSubmitted | OrderFilled | OrderCancelled | OrderExpired | OrderRejected
