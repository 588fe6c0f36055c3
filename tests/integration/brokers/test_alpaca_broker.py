"""AlpacaBroker against the local Alpaca server: the order path and each fault it must survive."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide as AlpacaSide
from alpaca.trading.enums import TimeInForce as AlpacaTif
from alpaca.trading.requests import MarketOrderRequest
from pydantic import SecretStr

from quant_brokers.alpaca import AlpacaBroker, AlpacaBrokerSettings
from quant_domain import BrokerUnavailable, OrderStatus
from quant_domain.events import (
    ExecutionReport,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
)
from quant_engine.oms import OrderRecord
from tests.fakes.alpaca_broker import FakeAlpacaBroker
from tests.integration.brokers.alpaca_harness import (
    FAST,
    Recorder,
    buy,
    posts,
    settings_for,
    start,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def fake() -> Iterator[FakeAlpacaBroker]:
    with FakeAlpacaBroker() as server:
        yield server


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    yield recording
    assert recording.errors == []  # every report was a legal step for the engine's OMS


@pytest.fixture
def broker(fake: FakeAlpacaBroker, recorder: Recorder) -> Iterator[AlpacaBroker]:
    adapter = start(fake, recorder)
    yield adapter
    adapter.close()


def filled(qty: int) -> object:
    return lambda items: (
        sum((i.fill.quantity for i in items if isinstance(i, OrderFilled)), Decimal(0)) >= qty
    )


def test_alpaca_broker_market_order_reports_accepted_then_filled(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    fake.set_price("AAPL", "187.25")
    assert recorder.kinds() == ["connected=True"]
    recorder.send(broker, buy("mkt-1"))
    recorder.wait_for(filled(10))
    assert recorder.kinds() == ["connected=True", "OrderAccepted", "OrderFilled"]
    (accepted,) = recorder.of(OrderAccepted)
    (report,) = recorder.of(OrderFilled)
    assert report.fill.price == Decimal("187.25")
    assert report.fill.client_order_id == "mkt-1"
    assert report.fill.strategy_id == "s1"
    assert report.fill.fill_id == f"{accepted.broker_order_id}:10"
    assert report.note.startswith("alpaca execution ")
    assert broker.positions() == {"AAPL": Decimal(10)}
    assert broker.account().cash == Decimal(100_000) - Decimal("1872.5")


def test_alpaca_broker_accept_then_504_ends_as_one_filled_order(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    fake.set_price("AAPL", "50")
    fake.accept_then_504()
    recorder.send(broker, buy("amb-1", 3))
    recorder.wait_for(filled(3))
    assert len(fake.book.orders) == 1
    assert not recorder.of(OrderRejected)
    assert fake.book.by_client_id["amb-1"].status == "filled"
    assert recorder.status("amb-1") is OrderStatus.FILLED


def test_alpaca_broker_accept_then_504_on_a_mute_stream_is_resolved_by_lookup(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    fake.set_price("AAPL", "50")
    fake.silence_stream()
    fake.accept_then_504()
    recorder.send(broker, buy("amb-2", 3))
    recorder.wait_for(filled(3))
    assert recorder.kinds()[1:] == ["OrderStatusUnknown", "OrderAccepted", "OrderFilled"]
    assert len(fake.book.orders) == 1
    assert posts(fake) == 2  # the first try and the SDK's retry: never a third by us
    assert ("GET", "/v2/orders:by_client_order_id") in fake.requests
    assert recorder.of(OrderFilled)[0].note == "recovered from the order's state at Alpaca"
    assert recorder.status("amb-2") is OrderStatus.FILLED


def test_alpaca_broker_rate_limited_submit_succeeds_after_the_sdk_retry(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    fake.set_price("AAPL", "20")
    fake.rate_limit(2)
    recorder.send(broker, buy("rl-1", 1))
    recorder.wait_for(filled(1))
    assert posts(fake) == 3
    assert len(fake.book.orders) == 1
    assert recorder.kinds()[1:] == ["OrderAccepted", "OrderFilled"]


def test_alpaca_broker_order_alpaca_never_got_is_rejected_after_two_lookups(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    fake.rate_limit(4)  # the SDK gives up after its three retries: nothing was created
    recorder.send(broker, buy("rl-2", 1))
    recorder.wait_for(lambda items: any(isinstance(i, OrderRejected) for i in items))
    unknown, rejected = recorder.of(OrderStatusUnknown) + recorder.of(OrderRejected)
    assert isinstance(unknown, OrderStatusUnknown)
    assert isinstance(rejected, OrderRejected)
    assert rejected.code == "BROKER_NOT_FOUND"
    assert not fake.book.orders


def test_alpaca_broker_dropped_stream_reconnects_and_recovers_missed_fills(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    fake.set_price("AAPL", "100")
    recorder.send(broker, buy("drop-1", 5, limit="95"))
    recorder.wait_for(lambda items: any(isinstance(i, OrderAccepted) for i in items))
    fake.drop_stream(refuse=True)
    recorder.wait_for(lambda items: ("connected", False) in items)
    fake.set_price("AAPL", "94")  # fills while nobody listens
    assert fake.book.by_client_id["drop-1"].status == "filled"
    recorder.send(broker, buy("while-down", 1))
    recorder.wait_for(lambda items: len(recorder.of(OrderRejected)) == 1)
    assert recorder.of(OrderRejected)[0].code == "BROKER_UNAVAILABLE"
    assert "while-down" not in fake.book.by_client_id
    fake.restore_stream()
    items = recorder.wait_for(lambda items: items[-1] == ("connected", True))
    (report,) = recorder.of(OrderFilled)
    assert (report.fill.quantity, report.fill.price) == (Decimal(5), Decimal(94))
    assert items.index(report) < len(items) - 1  # the fill came before connected=True


def test_alpaca_broker_mute_stream_is_reconnected_and_the_fill_recovered(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    fake.set_price("AAPL", "10")
    fake.silence_stream()
    recorder.send(broker, buy("mute-1", 2))
    recorder.wait_for(filled(2))
    assert recorder.kinds() == [
        "connected=True",
        "OrderAccepted",
        "connected=False",
        "OrderFilled",
        "connected=True",
    ]


def test_alpaca_broker_partial_fills_add_up_to_the_order_quantity(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    fake.book.partial_fills = 3
    fake.set_price("MSFT", "400")
    recorder.send(broker, buy("part-1", 10, symbol="MSFT"))
    recorder.wait_for(filled(10))
    fills = [r.fill for r in recorder.of(OrderFilled)]
    assert [f.quantity for f in fills] == [Decimal(3), Decimal(3), Decimal(4)]
    assert len({f.fill_id for f in fills}) == 3


def test_alpaca_broker_reject_arrives_as_order_rejected(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    fake.reject_symbol("BAD")
    recorder.send(broker, buy("rej-1", symbol="BAD"))
    recorder.wait_for(lambda items: bool(recorder.of(OrderRejected)))
    assert recorder.kinds()[1:] == ["OrderRejected"]
    assert recorder.of(OrderRejected)[0].code == "BROKER_REJECTED"


def test_alpaca_broker_duplicate_client_order_id_is_resolved_by_lookup(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    other = TradingClient(fake.key_id, fake.secret_key, url_override=fake.url)
    request = MarketOrderRequest(
        symbol="AAPL",
        qty=4,
        side=AlpacaSide.BUY,
        time_in_force=AlpacaTif.DAY,
        client_order_id="dup-1",
    )
    fake.silence_stream()  # so the answer, not the stream's echo, decides
    placed = other.submit_order(request)  # as if an earlier attempt had gone through
    recorder.send(broker, buy("dup-1", 4))
    recorder.wait_for(lambda items: bool(recorder.of(OrderAccepted)))
    fake.silence_stream(False)
    assert recorder.kinds()[1:] == ["OrderStatusUnknown", "OrderAccepted"]
    assert recorder.of(OrderAccepted)[0].broker_order_id == str(placed.id)
    fake.set_price("AAPL", "30")
    recorder.wait_for(filled(4))
    assert len(fake.book.orders) == 1


def test_alpaca_broker_cancel_reports_cancelled_with_our_reason(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    recorder.send(broker, buy("cx-1", 1, limit="1"))
    recorder.wait_for(lambda items: bool(recorder.of(OrderAccepted)))
    broker.cancel("cx-1", "flatten")
    recorder.wait_for(lambda items: bool(recorder.of(OrderCancelled)))
    assert recorder.of(OrderCancelled)[0].reason == "flatten"


def test_alpaca_broker_new_instance_after_a_sigkill_finds_the_order_and_does_not_resubmit(
    fake: FakeAlpacaBroker, recorder: Recorder
) -> None:
    fake.set_price("AAPL", "100")
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.brokers.alpaca_crash_child",
            fake.url,
            fake.stream_url,
            "crash-1",
        ],
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL
    assert posts(fake) == 1
    second = start(fake, recorder)
    try:
        (found,) = second.open_orders()
        assert (found.client_order_id, found.quantity, found.limit_price) == (
            "crash-1",
            Decimal(7),
            Decimal(90),
        )
        recorder.adopt(found)
        fake.set_price("AAPL", "89")
        recorder.wait_for(filled(7))
        assert posts(fake) == 1
        assert recorder.kinds() == ["connected=True", "OrderFilled"]
    finally:
        second.close()


def _killed_after_acceptance(fake: FakeAlpacaBroker, cid: str) -> None:
    """An earlier process placed a limit buy of 7 AAPL at 90 as `cid` and was SIGKILLed."""
    command = [sys.executable, "-m", "tests.integration.brokers.alpaca_crash_child"]
    child = subprocess.run(
        [*command, fake.url, fake.stream_url, cid], cwd=ROOT, timeout=60, check=False
    )
    assert child.returncode == -signal.SIGKILL


@pytest.mark.parametrize(("held", "reported"), [(0, 7), (3, 4)])
def test_alpaca_broker_resolve_after_a_sigkill_reports_what_filled_while_down_beyond_our_books(
    fake: FakeAlpacaBroker, recorder: Recorder, held: int, reported: int
) -> None:
    fake.set_price("AAPL", "100")
    _killed_after_acceptance(fake, "crash-r")
    fake.set_price("AAPL", "89")  # it fills while no adapter runs
    second = start(fake, recorder)
    try:
        order = buy("crash-r", 7, limit="90")
        recorder.records["crash-r"] = OrderRecord(order, datetime.now(UTC), OrderStatus.SUBMITTED)
        second.resolve("crash-r", Decimal(held), Decimal(held) * Decimal(89))
        recorder.wait_for(filled(reported))
        assert posts(fake) == 1  # looked up by its client order id, never sent again
        assert recorder.kinds() == ["connected=True", "OrderAccepted", "OrderFilled"]
        (fill,) = recorder.of(OrderFilled)
        assert isinstance(fill, OrderFilled)
        assert (fill.fill.quantity, fill.fill.price) == (Decimal(reported), Decimal(89))
    finally:
        second.close()


def test_alpaca_broker_resolve_of_an_order_alpaca_never_got_ends_it_rejected(
    fake: FakeAlpacaBroker, recorder: Recorder
) -> None:
    second = start(fake, recorder)
    try:
        order = buy("never-sent", 7, limit="90")
        recorder.records["never-sent"] = OrderRecord(
            order, datetime.now(UTC), OrderStatus.SUBMITTED
        )
        second.resolve("never-sent")
        recorder.wait_for(lambda items: bool([i for i in items if isinstance(i, OrderRejected)]))
        assert posts(fake) == 0
        (rejected,) = recorder.of(OrderRejected)
        assert isinstance(rejected, OrderRejected)
        assert rejected.code == "BROKER_NOT_FOUND"
    finally:
        second.close()


def test_alpaca_broker_wrong_key_is_broker_unavailable_naming_the_endpoint(
    fake: FakeAlpacaBroker,
) -> None:
    settings = AlpacaBrokerSettings(
        api_key_id="not-the-key",
        api_secret_key="not-the-secret",
        trading_url=fake.url,
        stream_url=fake.stream_url,
    )
    with pytest.raises(BrokerUnavailable) as caught:
        AlpacaBroker(settings, FAST).connect(timeout=2)
    message = str(caught.value)
    assert fake.url in message
    assert "refused the API key" in message
    assert "not-the-key" not in message
    assert "not-the-secret" not in message


def test_alpaca_broker_stream_refusing_the_key_fails_connect_at_once(
    fake: FakeAlpacaBroker,
) -> None:
    fake.refuse_stream_auth = True
    broker = AlpacaBroker(settings_for(fake), FAST)
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as caught:
        broker.connect(timeout=5)
    assert time.monotonic() - started < 2.5
    assert fake.stream_url in str(caught.value)
    assert "did not authorize the API key" in str(caught.value)
    assert fake.secret_key not in str(caught.value)
    assert not broker.connected


def test_alpaca_broker_summary_reads_the_account_without_placing_an_order(
    fake: FakeAlpacaBroker, broker: AlpacaBroker
) -> None:
    summary = broker.summary()
    assert summary.broker == "alpaca"
    assert summary.endpoint == fake.url
    assert summary.cash == Decimal(100_000)
    assert summary.can_trade is True
    assert summary.paper is True
    assert posts(fake) == 0


def test_alpaca_broker_keys_never_reach_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    key_id, secret = "KEYID-sekrit-1234", "SECRET-sekrit-5678"
    caplog.set_level(logging.DEBUG)
    with FakeAlpacaBroker(key_id=key_id, secret_key=secret) as fake:
        recorder = Recorder()
        broker = start(fake, recorder)
        fake.set_price("AAPL", "5")
        fake.drop_stream(refuse=True)
        recorder.wait_for(lambda items: ("connected", False) in items)
        recorder.send(broker, buy("log-1", 1))
        fake.restore_stream()
        recorder.wait_for(lambda items: items[-1] == ("connected", True))
        texts = [repr(broker), repr(settings_for(fake))]
        broker.close()
        wrong = settings_for(fake).model_copy(update={"api_secret_key": SecretStr("WRONG")})
        with pytest.raises(BrokerUnavailable) as caught:
            AlpacaBroker(wrong, FAST).connect(timeout=1)
        texts.append(str(caught.value))
    texts.append(caplog.text)
    assert caplog.text  # the scenario did log (connects, the drop, the refusal)
    for text in texts:
        assert key_id not in text
        assert secret not in text


def test_alpaca_broker_queries_fail_closed_when_the_server_is_gone(recorder: Recorder) -> None:
    with FakeAlpacaBroker() as fake:
        broker = start(fake, recorder)
        url = fake.url
    try:
        recorder.wait_for(lambda items: ("connected", False) in items)
        assert not broker.connected
        with pytest.raises(BrokerUnavailable, match=f"cannot reach {url}"):
            broker.positions()
        with pytest.raises(BrokerUnavailable, match=f"cannot reach {url}"):
            broker.summary()
        recorder.send(broker, buy("gone-1", 1))
        recorder.wait_for(lambda items: bool(recorder.of(OrderRejected)))
        assert recorder.of(OrderRejected)[0].code == "BROKER_UNAVAILABLE"
    finally:
        broker.close()


def test_alpaca_broker_failing_report_handler_does_not_stop_the_stream(
    fake: FakeAlpacaBroker, broker: AlpacaBroker, recorder: Recorder
) -> None:
    calls: list[str] = []

    def flaky(report: ExecutionReport) -> None:
        calls.append(type(report).__name__)
        if len(calls) == 1:
            raise RuntimeError("journal down")
        recorder.report(report)

    broker.set_report_handler(flaky)
    fake.set_price("AAPL", "10")
    for cid in ("h-1", "h-2"):
        recorder.records[cid] = OrderRecord(buy(cid, 1), datetime.now(UTC), OrderStatus.SUBMITTED)
        broker.submit(buy(cid, 1))
    recorder.wait_for(filled(2))
    assert calls[0] == "OrderAccepted"
    assert recorder.status("h-2") is OrderStatus.FILLED
    assert broker.connected
