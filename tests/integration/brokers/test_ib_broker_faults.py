"""IbBroker against FakeTws's faults: link codes, restarts, id rollback, odd message orders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from quant_brokers.ib.client import IbBroker
from quant_domain import BrokerUnavailable, OrderSide, OrderStatus
from quant_domain.events import (
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
)
from tests.fakes.tws import FakeTws
from tests.integration.brokers.ib_harness import (
    CLIENT_ID,
    Recorder,
    broker,
    buy,
    eventually,
    fast_backoff,
    replay,
    settings,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def tws() -> Iterator[FakeTws]:
    with FakeTws() as fake:
        fake.set_price("AAPL", 101.25)
        yield fake


def fills_of(seen_reports: list[object], coid: str) -> list[OrderFilled]:
    return [
        r for r in seen_reports if isinstance(r, OrderFilled) and r.fill.client_order_id == coid
    ]


def test_1100_pauses_submits_and_1102_resumes_them_after_reconciliation(tws: FakeTws) -> None:
    with broker(tws) as (ib, seen):
        tws.notify(1100)
        seen.wait(lambda: seen.links[-1][0] is False)
        assert ib.connected is False
        ib.submit(buy(1, "c-down"))
        seen.wait(lambda: bool(seen.of(OrderRejected, "c-down")))
        rejected = seen.of(OrderRejected, "c-down")[0]
        assert isinstance(rejected, OrderRejected)
        assert rejected.code == "BROKER_UNAVAILABLE"
        tws.notify(1102)
        seen.wait(lambda: seen.links[-1][0] is True)
        assert "executions recovered" in seen.links[-1][1]
        ib.submit(buy(1, "c-up"))
        seen.wait(lambda: bool(seen.of(OrderFilled, "c-up")))
    assert [flag for flag, _ in seen.links] == [True, False, True]
    assert [ref for _, _, ref in tws.placed] == ["c-up"]


def test_1101_resubscribes_positions_and_account_updates_then_resumes(tws: FakeTws) -> None:
    with broker(tws) as (ib, seen):
        tws.notify(1100)
        seen.wait(lambda: seen.links[-1][0] is False)
        tws.notify(1101)  # the fake drops the connection's subscriptions
        seen.wait(lambda: seen.links[-1][0] is True)
        assert ib.connected is True
        assert "1101" in seen.links[-1][1]
        session = tws.sessions[0]
        assert (session.positions, session.account_updates) == (True, True)


def test_rolled_back_next_valid_id_never_reuses_an_order_id(tws: FakeTws) -> None:
    with broker(tws) as (ib, seen):
        ib.submit(buy(1, "c-a"))
        ib.submit(buy(1, "c-b"))
        seen.wait(lambda: bool(seen.of(OrderFilled, "c-b")))
        tws.restart(next_valid_id=1)  # the gateway came back with an older nextValidId
        seen.wait(lambda: [flag for flag, _ in seen.links] == [True, False, True])
        ib.submit(buy(1, "c-c"))
        seen.wait(lambda: bool(seen.of(OrderFilled, "c-c")))
    ids = [order_id for _, order_id, _ in tws.placed]
    assert tws.duplicate_ids == []
    assert ids == sorted(set(ids))
    assert len(ids) == 3


def test_order_id_floor_is_respected_by_a_new_broker(tws: FakeTws) -> None:
    with broker(tws, floor=500) as (ib, seen):
        ib.submit(buy(1, "c-floor"))
        seen.wait(lambda: bool(seen.of(OrderAccepted, "c-floor")))
        accepted = seen.of(OrderAccepted, "c-floor")[0]
        assert isinstance(accepted, OrderAccepted)
        assert int(accepted.broker_order_id) > 500
        assert ib.highest_order_id == int(accepted.broker_order_id)


def test_exec_details_before_open_order_is_buffered_not_lost(tws: FakeTws) -> None:
    tws.executions_before_open()
    with broker(tws) as (ib, seen):
        ib.submit(buy(3, "c-early"))
        seen.wait(lambda: bool(seen.of(OrderFilled, "c-early")))
        ib.submit(buy(2, "c-early-2", limit="101.50"))
        seen.wait(lambda: bool(seen.of(OrderFilled, "c-early-2")))
    for coid, quantity in (("c-early", 3), ("c-early-2", 2)):
        fills = fills_of(seen.reports, coid)
        assert len(fills) == 1
        assert fills[0].fill.quantity == Decimal(quantity)
        assert fills[0].fill.commission == Decimal(1)  # its commission was waited for
        assert fills[0].note == ""
        assert seen.kinds(coid) == ["OrderFilled"]  # its fill implies the acceptance
    assert replay(buy(3, "c-early"), seen.reports).status is OrderStatus.FILLED


def test_partial_fills_add_up_to_the_order(tws: FakeTws) -> None:
    tws.fill_in_parts(3)
    with broker(tws) as (ib, seen):
        ib.submit(buy(10, "c-parts"))
        seen.wait(lambda: len(seen.of(OrderFilled, "c-parts")) == 3)
    fills = fills_of(seen.reports, "c-parts")
    assert sum(f.fill.quantity for f in fills) == Decimal(10)
    record = replay(buy(10, "c-parts"), seen.reports)
    assert (record.status, record.filled_quantity) == (OrderStatus.FILLED, Decimal(10))
    assert len({f.fill.fill_id for f in fills}) == 3
    assert seen.kinds("c-parts") == ["OrderAccepted", "OrderFilled", "OrderFilled", "OrderFilled"]


def test_client_id_in_use_is_retried_with_backoff_then_connects(tws: FakeTws) -> None:
    tws.refuse_client_id(2)
    with broker(tws) as (ib, seen):
        assert ib.connected is True
        assert ib.connect_attempts == 3
        assert tws.refusals == 0
        assert seen.links == [(True, seen.links[0][1])]


def test_client_id_in_use_past_the_timeout_raises_broker_unavailable(tws: FakeTws) -> None:
    tws.refuse_client_id(1000)
    ib = IbBroker(settings(tws), client_id=CLIENT_ID, backoff=fast_backoff())
    with pytest.raises(BrokerUnavailable, match="326"):
        ib.connect(timeout=0.5)
    ib.close()
    assert ib.connect_attempts > 1


def test_reject_arrives_as_order_rejected(tws: FakeTws) -> None:
    tws.reject_next()
    with broker(tws) as (ib, seen):
        ib.submit(buy(1, "c-rej"))
        seen.wait(lambda: bool(seen.of(OrderRejected, "c-rej")))
    rejected = seen.of(OrderRejected, "c-rej")[0]
    assert isinstance(rejected, OrderRejected)
    assert rejected.code == "BROKER_REJECTED"
    assert "IB 201" in rejected.reason
    assert seen.kinds("c-rej") == ["OrderRejected"]
    assert replay(buy(1, "c-rej"), seen.reports).status is OrderStatus.REJECTED


def test_restart_new_broker_finds_the_order_by_order_ref_and_does_not_resubmit(
    tws: FakeTws,
) -> None:
    command = [sys.executable, "-m", "tests.integration.brokers.ib_crash_child"]
    command += [str(tws.port), str(CLIENT_ID), "c-crash"]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        word, broker_id, highest = child.stdout.readline().split()
        assert word == "accepted"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
    order = buy(4, "c-crash", limit="95")
    # a new process after the SIGKILL: same client id, the persisted floor
    with broker(tws, floor=int(highest)) as (second, seen):
        working = second.open_orders()
        assert [(o.client_order_id, o.quantity, o.limit_price) for o in working] == [
            ("c-crash", Decimal(4), Decimal(95))
        ]
        second.submit(order)
        seen.wait(lambda: bool(seen.of(OrderAccepted, "c-crash")))
    accepted = seen.of(OrderAccepted, "c-crash")[0]
    assert isinstance(accepted, OrderAccepted)
    assert accepted.broker_order_id == broker_id
    assert [ref for _, _, ref in tws.placed] == ["c-crash"]


def test_positions_read_back_equal_what_was_filled(tws: FakeTws) -> None:
    tws.fill_in_parts(2)
    tws.set_price("MSFT", 410.0)
    with broker(tws) as (ib, seen):
        ib.submit(buy(10, "c-p1"))
        ib.submit(buy(5, "c-p2", symbol="MSFT"))
        seen.wait(lambda: len(fills_of(seen.reports, "c-p1")) == 2)
        seen.wait(lambda: len(fills_of(seen.reports, "c-p2")) == 2)
        filled: dict[str, Decimal] = {}
        for report in seen.reports:
            if isinstance(report, OrderFilled):
                sign = 1 if report.fill.side is OrderSide.BUY else -1
                symbol = report.fill.symbol
                filled[symbol] = filled.get(symbol, Decimal(0)) + sign * report.fill.quantity
        eventually(lambda: dict(ib.positions()) == filled)
    assert filled == {"AAPL": Decimal(10), "MSFT": Decimal(5)}
    assert tws.positions() == {"AAPL": 10.0, "MSFT": 5.0}


def test_dropped_link_reconnects_and_reports_missed_executions(tws: FakeTws) -> None:
    with broker(tws) as (ib, seen):
        ib.submit(buy(2, "c-missed", limit="100"))
        seen.wait(lambda: bool(seen.of(OrderAccepted, "c-missed")))
        tws.refuse_client_id(2)  # the first reconnects meet 326, retried with backoff
        tws.drop_connections()
        tws.set_price("AAPL", 99.5)  # fills while nobody is connected
        seen.wait(lambda: [flag for flag, _ in seen.links] == [True, False, True])
        fills = fills_of(seen.reports, "c-missed")
        assert ib.connected is True
    assert [f.fill.fill_id for f in fills] == [e.exec_id for e in tws.executions()]
    assert fills[0].fill.price == Decimal("99.5")


def test_execution_correction_is_not_reported_as_a_second_fill(tws: FakeTws) -> None:
    with broker(tws) as (ib, seen):
        ib.submit(buy(4, "c-fix"))
        seen.wait(lambda: bool(seen.of(OrderFilled, "c-fix")))
        original = fills_of(seen.reports, "c-fix")[0].fill.fill_id
        corrected = tws.correct_execution(original, 101.0)
        eventually(lambda: len(ib.corrections) == 1)
    correction = ib.corrections[0]
    assert (correction.original, correction.corrected) == (original, corrected)
    assert correction.price == Decimal(101)
    assert len(fills_of(seen.reports, "c-fix")) == 1


def test_unanswered_submit_is_unknown_then_found_by_order_ref(tws: FakeTws) -> None:
    tws.hold_acks()
    with broker(tws, ack_timeout=0.3) as (ib, seen):
        ib.submit(buy(1, "c-silent", limit="90"))
        seen.wait(lambda: bool(seen.of(OrderAccepted, "c-silent")))
    assert seen.kinds("c-silent") == ["OrderStatusUnknown", "OrderAccepted"]
    unknown = seen.of(OrderStatusUnknown, "c-silent")[0]
    assert isinstance(unknown, OrderStatusUnknown)
    assert "did not answer" in unknown.reason
    assert [ref for _, _, ref in tws.placed] == ["c-silent"]
    assert replay(buy(1, "c-silent", limit="90"), seen.reports).status is OrderStatus.ACCEPTED


def test_submit_lost_on_the_way_is_unknown_then_rejected_not_at_broker(tws: FakeTws) -> None:
    tws.lose_orders()
    with broker(tws, ack_timeout=0.3) as (ib, seen):
        ib.submit(buy(1, "c-lost", limit="90"))
        seen.wait(lambda: bool(seen.of(OrderRejected, "c-lost")))
    assert seen.kinds("c-lost") == ["OrderStatusUnknown", "OrderRejected"]
    rejected = seen.of(OrderRejected, "c-lost")[0]
    assert isinstance(rejected, OrderRejected)
    assert rejected.code == "NOT_AT_BROKER"
    assert [ref for _, _, ref in tws.lost] == ["c-lost"]
    assert tws.placed == []  # looked up, never sent again
    assert replay(buy(1, "c-lost", limit="90"), seen.reports).status is OrderStatus.REJECTED


def test_new_broker_reports_the_days_executions_once_its_handler_is_installed(
    tws: FakeTws,
) -> None:
    with broker(tws) as (first, seen):
        first.submit(buy(2, "c-day"))
        seen.wait(lambda: bool(seen.of(OrderFilled, "c-day")))
        fill_id = fills_of(seen.reports, "c-day")[0].fill.fill_id
    later = IbBroker(settings(tws), client_id=CLIENT_ID, backoff=fast_backoff())
    later.connect(timeout=5)  # no handler yet: what it recovers waits for one
    try:
        recorder = Recorder()
        later.set_report_handler(recorder.report)
        recorder.wait(lambda: bool(recorder.of(OrderFilled, "c-day")))
    finally:
        later.close()
    assert [f.fill.fill_id for f in fills_of(recorder.reports, "c-day")] == [fill_id]
