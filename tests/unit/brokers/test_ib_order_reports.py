"""quant_brokers.ib.order_reports: each fact reported once, in an order the OMS accepts."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

from ib_async import CommissionReport, Execution, Fill, Stock

from quant_brokers.ib.order_reports import OrderReports
from quant_domain.events import (
    ExecutionReport,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderStatusUnknown,
)

AT = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)


def ib_fill(exec_id: str, shares: float = 2.0, price: float = 100.0, coid: str = "c-1") -> Fill:
    execution = Execution(
        execId=exec_id, time=AT, side="BOT", shares=shares, price=price, orderRef=coid, orderId=5
    )
    return Fill(Stock("AAPL", "SMART", "USD"), execution, CommissionReport(), AT)


def commission(fill: Fill, amount: float = 1.0) -> None:
    fill.commissionReport.execId = fill.execution.execId
    fill.commissionReport.commission = amount


def reports(wait: float = 5.0) -> tuple[OrderReports, list[ExecutionReport]]:
    sent: list[ExecutionReport] = []
    return OrderReports(sent.append, lambda: AT, wait), sent


def test_fill_waits_for_its_commission_and_what_follows_waits_behind_it() -> None:
    book, sent = reports()
    first = ib_fill("e1.01")
    book.fill(first)
    book.cancelled("c-1", "cancelled at IB")
    assert sent == []
    commission(first, 1.25)
    book.flush()
    assert [type(r) for r in sent] == [OrderFilled, OrderCancelled]
    filled = sent[0]
    assert isinstance(filled, OrderFilled)
    assert (filled.fill.commission, filled.broker_order_id, filled.note) == (
        Decimal("1.25"),
        "5",
        "",
    )


def test_fill_without_commission_goes_out_at_its_deadline_with_a_note() -> None:
    book, sent = reports(wait=0.01)
    book.fill(ib_fill("e1.01"))
    time.sleep(0.02)
    book.flush()
    assert len(sent) == 1
    filled = sent[0]
    assert isinstance(filled, OrderFilled)
    assert filled.fill.commission == Decimal(0)
    assert "commission not reported" in filled.note


def test_repeated_execution_is_reported_once() -> None:
    book, sent = reports()
    for _ in range(3):
        fill = ib_fill("e1.01")
        commission(fill)
        book.fill(fill)
    assert len(sent) == 1


def test_correction_is_kept_apart_and_never_a_second_fill() -> None:
    book, sent = reports()
    fill = ib_fill("e1.01")
    commission(fill)
    book.fill(fill)
    corrected = ib_fill("e1.02", price=99.0)
    book.fill(corrected)
    book.fill(corrected)
    assert len(sent) == 1
    assert [(c.original, c.corrected, c.price) for c in book.corrections] == [
        ("e1.01", "e1.02", Decimal(99))
    ]


def test_acceptance_is_reported_once_and_never_after_a_fill() -> None:
    book, sent = reports()
    book.accepted("c-1", "5")
    book.accepted("c-1", "5")
    fill = ib_fill("e1.01")
    commission(fill)
    book.fill(fill)
    book.accepted("c-2", "6")
    fill2 = ib_fill("e2.01", coid="c-2")
    commission(fill2)
    book.fill(fill2)
    book.accepted("c-2", "6")
    assert [type(r) for r in sent] == [OrderAccepted, OrderFilled, OrderAccepted, OrderFilled]


def test_rejection_after_a_fill_ends_the_order_cancelled() -> None:
    book, sent = reports()
    fill = ib_fill("e1.01")
    commission(fill)
    book.fill(fill)
    book.rejected("c-1", "IB 201: no")
    book.rejected("c-1", "IB 201: again")
    assert [type(r) for r in sent] == [OrderFilled, OrderCancelled]


def test_unknown_lets_a_later_lookup_report_acceptance_again() -> None:
    book, sent = reports()
    book.accepted("c-1", "5")
    book.unknown("c-1", "link dropped")
    book.unknown("c-1", "still nothing")
    book.accepted("c-1", "5")
    assert [type(r) for r in sent] == [OrderAccepted, OrderStatusUnknown, OrderAccepted]


def test_no_fill_is_reported_after_the_order_ended() -> None:
    book, sent = reports()
    book.cancelled("c-1", "cancelled")
    fill = ib_fill("e1.01")
    commission(fill)
    book.fill(fill)
    assert [type(r) for r in sent] == [OrderCancelled]
