"""What the IB adapter has told the loop about each order, and the reports still to send.

IB's messages about one order arrive in an order the OMS would refuse (an execution before the
order's acceptance, a status before the commission of the fill it follows) and some arrive twice
(a reconnect replays executions; reqExecutions returns them again). This keeps, per client order
id, what was reported and a queue of reports not yet sent, so that the loop sees each fact once
and in a legal order:

- OrderAccepted at most once, and never after a fill or an end (its fills imply it).
- One OrderFilled per execution, de-duplicated by execId; it waits (at most `commission_wait`)
  for its commission report, and the reports queued behind it wait with it.
- A correction (an execId whose part before the last dot was seen with another suffix) is not
  a second execution: it is never reported as a fill (the journal would refuse a changed fill
  under one id, and a new id would double the position). It is kept in `corrections` and logged;
  the next reconciliation compares positions and cash with the broker's and shows any difference.
- One end (cancelled or rejected); a rejection after fills is reported as a cancellation.

Everything here runs on the adapter's thread.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from quant_brokers.ib import mapping
from quant_domain.events import (
    ExecutionReport,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Waiting:
    """A queued report; a fill (`ib_fill`) is ready once its commission came or time is up."""

    report: ExecutionReport | None
    ib_fill: Any = None
    deadline: float = 0.0
    broker_order_id: str = ""


@dataclass(slots=True)
class OrderTrail:
    """One order as this adapter reported it."""

    client_order_id: str
    strategy_id: str = ""
    broker_order_id: str = ""
    accepted: bool = False
    filled: bool = False
    ended: bool = False
    unknown: bool = False
    queue: deque[_Waiting] = field(default_factory=deque)


@dataclass(frozen=True, slots=True)
class Correction:
    """IB corrected execution `original` with `corrected` (price or quantity changed)."""

    client_order_id: str
    original: str
    corrected: str
    price: Decimal
    quantity: Decimal


class OrderReports:
    """Per-order report sequencing for the IB adapter (see the module docstring)."""

    def __init__(
        self,
        emit: Callable[[ExecutionReport], None],
        now: Callable[[], datetime],
        commission_wait: float,
    ) -> None:
        self._emit = emit
        self._now = now
        self._wait = commission_wait
        self.trails: dict[str, OrderTrail] = {}
        self._exec_ids: dict[str, str] = {}  # execId base -> the execId reported for it
        self.corrections: list[Correction] = []

    def trail(self, client_order_id: str, strategy_id: str = "") -> OrderTrail:
        found = self.trails.get(client_order_id)
        if found is None:
            found = self.trails[client_order_id] = OrderTrail(client_order_id, strategy_id)
        elif strategy_id and not found.strategy_id:  # seen through its fills before its submit
            found.strategy_id = strategy_id
        return found

    def seen_execution(self, exec_id: str) -> bool:
        return mapping.exec_base(exec_id) in self._exec_ids

    def accepted(self, client_order_id: str, broker_order_id: str) -> None:
        trail = self.trail(client_order_id)
        trail.broker_order_id = trail.broker_order_id or broker_order_id
        if trail.accepted or trail.filled or trail.ended:
            return
        trail.accepted = True
        trail.unknown = False
        report = OrderAccepted(client_order_id, trail.broker_order_id, self._now())
        self._queue(trail, _Waiting(report))

    def fill(self, ib_fill: Any) -> None:
        """A new execution from IB (live or recovered); repeats and corrections stop here."""
        execution = ib_fill.execution
        coid, exec_id = execution.orderRef, execution.execId
        base = mapping.exec_base(exec_id)
        first = self._exec_ids.get(base)
        if first is not None:
            if first != exec_id and not any(c.corrected == exec_id for c in self.corrections):
                correction = Correction(
                    coid,
                    first,
                    exec_id,
                    mapping.decimal(execution.price),
                    mapping.decimal(execution.shares),
                )
                self.corrections.append(correction)
                log.warning(
                    "ib execution corrected: order=%s exec=%s corrected_by=%s price=%s qty=%s",
                    coid,
                    first,
                    exec_id,
                    correction.price,
                    correction.quantity,
                )
            return
        self._exec_ids[base] = exec_id
        trail = self.trail(coid)
        if trail.ended:
            log.error("ib execution %s for order %s after its end; not reported", exec_id, coid)
            return
        trail.filled = True
        trail.unknown = False
        order_id = str(execution.orderId) if execution.orderId > 0 else trail.broker_order_id
        deadline = time.monotonic() + self._wait
        self._queue(trail, _Waiting(None, ib_fill, deadline, order_id))

    def cancelled(self, client_order_id: str, reason: str) -> None:
        trail = self.trail(client_order_id)
        if not trail.ended:
            trail.ended = True
            self._queue(trail, _Waiting(OrderCancelled(client_order_id, self._now(), reason)))

    def rejected(self, client_order_id: str, reason: str, code: str = "BROKER_REJECTED") -> None:
        trail = self.trail(client_order_id)
        if trail.ended:
            return
        if trail.filled:  # a partly filled order cannot become REJECTED: it ends cancelled
            self.cancelled(client_order_id, reason)
            return
        trail.ended = True
        self._queue(trail, _Waiting(OrderRejected(client_order_id, self._now(), reason, code)))

    def unknown(self, client_order_id: str, reason: str) -> None:
        """The outcome is ambiguous; a later lookup reports what IB holds (acceptance again)."""
        trail = self.trail(client_order_id)
        if trail.ended or trail.unknown:
            return
        trail.unknown = True
        trail.accepted = False
        self._queue(trail, _Waiting(OrderStatusUnknown(client_order_id, self._now(), reason)))

    def pending_fills(self) -> bool:
        return any(w.ib_fill is not None for t in self.trails.values() for w in t.queue)

    def flush(self) -> None:
        """Send every report whose turn has come (fills once their commission is in)."""
        for trail in self.trails.values():
            self._drain(trail)

    def _queue(self, trail: OrderTrail, waiting: _Waiting) -> None:
        trail.queue.append(waiting)
        self._drain(trail)

    def _drain(self, trail: OrderTrail) -> None:
        while trail.queue:
            head = trail.queue[0]
            report = head.report
            if report is None:
                report = self._fill_report(trail, head)
                if report is None:
                    return
            trail.queue.popleft()
            self._emit(report)

    def _fill_report(self, trail: OrderTrail, waiting: _Waiting) -> OrderFilled | None:
        ib_fill = waiting.ib_fill
        exec_id = ib_fill.execution.execId
        arrived = ib_fill.commissionReport.execId == exec_id
        if not arrived and time.monotonic() < waiting.deadline:
            return None
        fill = mapping.domain_fill(ib_fill, trail.strategy_id)
        note = "" if arrived else "commission not reported in time; counted as 0"
        return OrderFilled(fill, waiting.broker_order_id, note)
