"""Order counts and book figures the execution service takes after each step."""

from __future__ import annotations

import uuid
from array import array
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import REGISTRY

from quant_domain import Order, OrderSide, OrderStatus
from quant_domain.events import OrderAccepted, OrderRejected
from quant_engine.oms import OrderRecord
from quant_engine.order_acks import AckTimes
from quant_execution.step_metrics import StepMetrics

NOW = datetime(2026, 12, 7, 15, tzinfo=UTC)
RUN = uuid.uuid4()


class FakeSession(SimpleNamespace):
    """What StepMetrics reads of a PaperSession: its orders, last equity and sessions."""

    def __init__(self, capital: float) -> None:
        super().__init__(
            loop=SimpleNamespace(orders=[]),
            timeline=_Timeline(),
            config=SimpleNamespace(initial_capital=Decimal(str(capital))),
            acks=AckTimes(),
            broker_name="fake-broker",
        )
        self.equity = capital

    def step(self, equity: float, session: int) -> None:
        self.equity = equity
        self.timeline.session.append(session)

    def last_point(self) -> tuple[float, float, float, float]:
        return self.equity, 0.0, 0.0, 0.0


class _Timeline:
    def __init__(self) -> None:
        self.session = array("q")

    def __len__(self) -> int:
        return len(self.session)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def record(status: OrderStatus, code: str = "") -> OrderRecord:
    rec = OrderRecord(order=Order("AAA", OrderSide.BUY, Decimal(1)), submitted_at=NOW)
    rec.status, rec.code = status, code
    return rec


def observe(metrics: StepMetrics, session: FakeSession) -> None:
    fake: Any = session
    metrics.observe("s-metrics", RUN, fake)


def test_step_metrics_gate_refusal_counts_a_denial_not_a_submission() -> None:
    metrics, session = StepMetrics(), FakeSession(100.0)
    before = (
        sample("quant_risk_denials_total", rule="PRICE_COLLAR"),
        sample("quant_orders_rejected_total", broker="paper", reason="PRICE_COLLAR"),
        sample("quant_orders_submitted_total", broker="paper", strategy="s-metrics"),
    )
    session.loop.orders.append(record(OrderStatus.REJECTED, "PRICE_COLLAR"))
    session.step(100.0, 0)
    observe(metrics, session)
    observe(metrics, session)  # a retried hook counts nothing twice
    after = (
        sample("quant_risk_denials_total", rule="PRICE_COLLAR"),
        sample("quant_orders_rejected_total", broker="paper", reason="PRICE_COLLAR"),
        sample("quant_orders_submitted_total", broker="paper", strategy="s-metrics"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [1.0, 1.0, 0.0]


def test_step_metrics_broker_rejection_after_submission_is_counted_when_it_arrives() -> None:
    metrics, session = StepMetrics(), FakeSession(100.0)
    submitted = sample("quant_orders_submitted_total", broker="paper", strategy="s-metrics")
    rejected = sample("quant_orders_rejected_total", broker="paper", reason="BROKER_REJECTED")
    working = record(OrderStatus.ACCEPTED)
    session.loop.orders.append(working)
    session.step(100.0, 0)
    observe(metrics, session)
    assert sample("quant_orders_submitted_total", broker="paper", strategy="s-metrics") == (
        submitted + 1
    )
    working.status, working.code = OrderStatus.REJECTED, "BROKER_REJECTED"
    session.step(100.0, 0)
    observe(metrics, session)
    observe(metrics, session)
    assert sample("quant_orders_rejected_total", broker="paper", reason="BROKER_REJECTED") == (
        rejected + 1
    )


def test_step_metrics_book_figures_follow_peak_and_session_open() -> None:
    metrics, session = StepMetrics(), FakeSession(100.0)
    for equity, number in ((110.0, 0), (120.0, 0), (108.0, 1), (102.0, 1)):
        session.step(equity, number)
        observe(metrics, session)
    book = metrics.books["s-metrics"]
    assert book.equity == 102.0
    assert book.drawdown_ratio == pytest.approx(1 - 102 / 120)
    # session 1 opened at session 0's last equity (120)
    assert book.daily_pnl_ratio == pytest.approx(102 / 120 - 1)


def test_step_metrics_new_session_of_the_strategy_starts_a_new_book() -> None:
    metrics, session = StepMetrics(), FakeSession(100.0)
    session.step(90.0, 0)
    observe(metrics, session)
    fresh: Any = FakeSession(50.0)
    fresh.step(50.0, 0)
    metrics.observe("s-metrics", uuid.uuid4(), fresh)
    assert metrics.books["s-metrics"].peak == 50.0


def test_step_metrics_observes_each_answer_time_once_under_the_sessions_broker() -> None:
    metrics, session = StepMetrics(), FakeSession(100.0)
    labels = {"broker": "fake-broker"}
    count = sample("quant_order_ack_latency_seconds_count", **labels)
    total = sample("quant_order_ack_latency_seconds_sum", **labels)
    fast = sample("quant_order_ack_latency_seconds_bucket", le="0.05", **labels)
    clock = iter([10.0, 10.02, 20.0, 23.0])
    session.acks = AckTimes(lambda: next(clock))
    session.acks.sent("a")
    session.acks.reported(OrderAccepted("a", "b-1", NOW))
    session.acks.sent("b")
    session.acks.reported(OrderRejected("b", NOW, "no"))
    session.step(100.0, 0)
    observe(metrics, session)
    observe(metrics, session)  # taken once: a second look observes nothing more
    assert sample("quant_order_ack_latency_seconds_count", **labels) - count == 2
    assert sample("quant_order_ack_latency_seconds_sum", **labels) - total == pytest.approx(3.02)
    assert sample("quant_order_ack_latency_seconds_bucket", le="0.05", **labels) - fast == 1
