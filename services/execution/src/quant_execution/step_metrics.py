"""What each finished step leaves for the metrics: order counts, the broker's answer times and the
book's equity figures.

Called from the runner's after-step hook, once the step (strategy, risk gate, broker) is over:
nothing here runs inside TradingLoop's step or the timed risk check. The figures are plain
floats the scrape-time collectors read (quant_execution.gauges). The answer times were noted by
the session's TimedBroker as the orders went out and their first reports came back
(quant_engine.order_acks); they are observed here, labelled with the session's broker.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from quant_domain import OrderStatus
from quant_engine.oms import OrderRecord
from quant_engine.paper import PaperSession
from quant_engine.risk_gate import Reason
from quant_telemetry.metrics import (
    ORDER_ACK_LATENCY,
    ORDERS_REJECTED,
    ORDERS_SUBMITTED,
    RISK_DENIALS,
)

log = logging.getLogger("quant.execution")

RULES = frozenset(r.name for r in Reason if r is not Reason.OK)
"""Rejection codes that name a risk-gate rule; any other code came from the broker."""


@dataclass
class BookFigures:
    """One strategy's book as of its last step."""

    equity: float
    peak: float
    session: int  # the exchange session number of the last step
    session_open_equity: float  # equity when the last step's session began

    @property
    def daily_pnl_ratio(self) -> float:
        return self.equity / self.session_open_equity - 1.0 if self.session_open_equity else 0.0

    @property
    def drawdown_ratio(self) -> float:
        return 1.0 - self.equity / self.peak if self.peak > 0 else 0.0


@dataclass
class _Orders:
    records: list[OrderRecord]  # the session's list (a rebuild after an outage replaces it)
    seen: int = 0  # records before this index are counted
    open: dict[str, OrderRecord] = field(default_factory=dict)  # counted, outcome not final


class StepMetrics:
    """Counts each strategy's new orders after every step and keeps its book's figures."""

    def __init__(self, broker: str = "paper") -> None:
        self.broker = broker
        self.books: dict[str, BookFigures] = {}
        self._runs: dict[str, uuid.UUID] = {}
        self._orders: dict[uuid.UUID, _Orders] = {}

    def observe(self, strategy_id: str, run_id: uuid.UUID, session: PaperSession) -> None:
        """After a step of `strategy_id`'s session (run `run_id`): count its new orders and
        update its book's figures; observe how long the broker took to answer its orders."""
        try:
            if self._runs.get(strategy_id) != run_id:  # a new session of the strategy
                self.forget(strategy_id)
                self._runs[strategy_id] = run_id
            self._count_orders(strategy_id, run_id, session.loop.orders)
            self._update_book(strategy_id, session)
            self._observe_acks(session)
        except Exception:  # a metrics fault never stops a session from trading
            log.exception("step metrics failed for %s", strategy_id)

    def _count_orders(
        self, strategy_id: str, run_id: uuid.UUID, records: list[OrderRecord]
    ) -> None:
        state = self._orders.setdefault(run_id, _Orders(records))
        if state.records is not records:
            # rebuilt after an outage: the replay reproduced the same orders in the same
            # sequence, so the count carries on from where it was
            ids = set(state.open)
            state.records = records
            state.open = {
                r.order.client_order_id: r
                for r in records[: state.seen]
                if r.order.client_order_id in ids
            }
        for record in records[state.seen :]:
            if record.status is OrderStatus.REJECTED and record.code in RULES:
                # refused by the gate: never sent, so a denial and a rejection, not a submission
                RISK_DENIALS.labels(rule=record.code).inc()
                ORDERS_REJECTED.labels(broker=self.broker, reason=record.code).inc()
                continue
            ORDERS_SUBMITTED.labels(broker=self.broker, strategy=strategy_id).inc()
            state.open[record.order.client_order_id] = record
        state.seen = len(records)
        for cid, record in list(state.open.items()):
            if record.status.is_final:
                if record.status is OrderStatus.REJECTED:
                    ORDERS_REJECTED.labels(
                        broker=self.broker, reason=record.code or "BROKER_REJECTED"
                    ).inc()
                del state.open[cid]

    @staticmethod
    def _observe_acks(session: PaperSession) -> None:
        taken = session.acks.take()
        if taken:
            histogram = ORDER_ACK_LATENCY.labels(broker=session.broker_name)
            for seconds in taken:
                histogram.observe(seconds)

    def _update_book(self, strategy_id: str, session: PaperSession) -> None:
        equity = session.last_point()[0]
        sessions = session.timeline.session
        number = int(sessions[-1]) if len(sessions) else 0
        book = self.books.get(strategy_id)
        if book is None:
            # a fresh book opened its first session at its capital; a resumed one is seen from
            # this step on (the risk service keeps the persistent peak and session figures)
            fresh = len(session.timeline) <= 1
            start = float(session.config.initial_capital) if fresh else equity
            self.books[strategy_id] = BookFigures(equity, max(start, equity), number, start)
            return
        if number != book.session:
            book.session, book.session_open_equity = number, book.equity
        book.equity = equity
        book.peak = max(book.peak, equity)

    def forget(self, strategy_id: str) -> None:
        """The strategy stopped trading here: its figures and order watch go."""
        self.books.pop(strategy_id, None)
        run_id = self._runs.pop(strategy_id, None)
        if run_id is not None:
            self._orders.pop(run_id, None)
