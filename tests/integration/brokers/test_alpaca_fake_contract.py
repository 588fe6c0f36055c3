"""Contract tests: the real alpaca-py TradingClient and TradingStream against tests/fakes/alpaca_broker.

These are the gate for any alpaca-py upgrade. The adapter's tests trust the fake; these prove the
fake still matches what the pinned SDK (0.44.0) sends and parses, including the private retry
attributes the adapter tunes. Bump the pin only when this file passes against the new version.
"""

from __future__ import annotations

import asyncio
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.models import TradeUpdate
from alpaca.trading.requests import (
    GetCalendarRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
)
from alpaca.trading.stream import TradingStream

from tests.fakes.alpaca_broker import KEY_ID, SECRET_KEY, FakeAlpacaBroker

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def fake() -> Iterator[FakeAlpacaBroker]:
    with FakeAlpacaBroker() as server:
        yield server


@pytest.fixture
def client(fake: FakeAlpacaBroker) -> TradingClient:
    trading = TradingClient(KEY_ID, SECRET_KEY, url_override=fake.url)
    trading._retry_wait = 0  # the SDK's 3 s pause between retries, shortened for tests
    return trading


@pytest.fixture
def updates(fake: FakeAlpacaBroker) -> Iterator[queue.Queue[TradeUpdate]]:
    received: queue.Queue[TradeUpdate] = queue.Queue()
    stream = TradingStream(KEY_ID, SECRET_KEY, url_override=fake.stream_url)

    async def on_update(update: TradeUpdate) -> None:
        received.put(update)

    stream.subscribe_trade_updates(on_update)
    thread = threading.Thread(target=stream.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while fake.stream_clients == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.stream_clients == 1
    yield received
    stream.stop()
    fake.drop_stream()  # the SDK only sees the stop between 5 s receive timeouts otherwise
    thread.join(timeout=5)


def market(symbol: str, qty: int, client_order_id: str) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol=symbol,
        qty=qty,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        client_order_id=client_order_id,
    )


def events(received: queue.Queue[TradeUpdate], count: int) -> list[TradeUpdate]:
    return [received.get(timeout=5) for _ in range(count)]


def test_sdk_account_clock_calendar_parse_from_the_fake(client: TradingClient) -> None:
    account = client.get_account()
    assert account.status == "ACTIVE"
    assert account.cash == "100000"
    assert client.get_clock().is_open is True
    days = client.get_calendar(GetCalendarRequest(start=date(2026, 12, 7), end=date(2026, 12, 13)))
    assert [d.date.isoformat() for d in days][:1] == ["2026-12-07"]
    assert len(days) == 5
    assert days[0].open.hour == 9
    assert days[0].open.minute == 30


def test_sdk_market_order_fills_with_execution_details_on_the_stream(
    fake: FakeAlpacaBroker, client: TradingClient, updates: queue.Queue[TradeUpdate]
) -> None:
    fake.set_price("AAPL", "101.5")
    order = client.submit_order(market("AAPL", 10, "contract-1"))
    assert order.client_order_id == "contract-1"
    new, fill = events(updates, 2)
    assert (new.event, fill.event) == ("new", "fill")
    assert fill.execution_id is not None
    assert (fill.qty, fill.price, fill.position_qty) == (10.0, 101.5, 10.0)
    assert fill.order.status is OrderStatus.FILLED
    assert fill.order.filled_avg_price == "101.5"
    (position,) = client.get_all_positions()
    assert (position.symbol, position.qty, position.side) == ("AAPL", "10", "long")
    assert client.get_open_position("AAPL").cost_basis == "1015"


def test_sdk_partial_fills_add_up_to_the_order_quantity(
    fake: FakeAlpacaBroker, client: TradingClient, updates: queue.Queue[TradeUpdate]
) -> None:
    fake.book.partial_fills = 3
    fake.set_price("MSFT", "10")
    client.submit_order(market("MSFT", 10, "contract-partial"))
    received = events(updates, 4)
    assert [u.event for u in received] == ["new", "partial_fill", "partial_fill", "fill"]
    assert sum(u.qty or 0 for u in received) == 10
    assert received[-1].order.filled_qty == "10"


def test_sdk_duplicate_client_order_id_raises_422_with_alpacas_message(
    fake: FakeAlpacaBroker, client: TradingClient
) -> None:
    client.submit_order(market("AAPL", 1, "contract-dup"))
    with pytest.raises(APIError) as caught:
        client.submit_order(market("AAPL", 1, "contract-dup"))
    assert caught.value.status_code == 422
    assert caught.value.message == "client_order_id must be unique"
    assert len(fake.book.orders) == 1


def test_sdk_limit_order_works_is_found_and_cancels_with_204(
    fake: FakeAlpacaBroker, client: TradingClient, updates: queue.Queue[TradeUpdate]
) -> None:
    fake.set_price("AAPL", "100")
    request = LimitOrderRequest(
        symbol="AAPL",
        qty=5,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.GTC,
        limit_price=90,
        client_order_id="contract-limit",
    )
    placed = client.submit_order(request)
    assert client.get_order_by_client_id("contract-limit").id == placed.id
    (working,) = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))
    assert working.status is OrderStatus.NEW
    assert working.limit_price == "90"
    assert client.cancel_order_by_id(placed.id) is None
    assert [u.event for u in events(updates, 2)] == ["new", "canceled"]
    with pytest.raises(APIError) as caught:
        client.cancel_order_by_id(placed.id)
    assert caught.value.status_code == 422
    assert ("DELETE", f"/v2/orders/{placed.id}") in fake.requests


def test_sdk_limit_order_fills_when_the_price_crosses(
    fake: FakeAlpacaBroker, client: TradingClient, updates: queue.Queue[TradeUpdate]
) -> None:
    fake.set_price("AAPL", "100")
    request = LimitOrderRequest(
        symbol="AAPL", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=95
    )
    client.submit_order(request)
    fake.set_price("AAPL", "96")
    fake.set_price("AAPL", "94")
    assert [(u.event, u.price) for u in events(updates, 2)] == [("new", None), ("fill", 94.0)]


def test_sdk_cancel_all_answers_207_with_each_order(
    fake: FakeAlpacaBroker, client: TradingClient
) -> None:
    client.submit_order(market("AAPL", 1, "contract-a"))  # no price yet: stays working
    client.submit_order(market("MSFT", 1, "contract-b"))
    answers = client.cancel_orders()
    assert sorted(a.status for a in answers) == [200, 200]
    closed = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))
    assert {o.client_order_id for o in closed} == {"contract-a", "contract-b"}


def test_sdk_orders_after_a_time_list_only_later_orders(client: TradingClient) -> None:
    first = client.submit_order(market("AAPL", 1, "contract-early"))
    client.submit_order(market("AAPL", 1, "contract-late"))
    later = client.get_orders(
        GetOrdersRequest(status=QueryOrderStatus.ALL, after=first.submitted_at)
    )
    assert [o.client_order_id for o in later] == ["contract-late"]


def test_sdk_retries_a_post_after_accept_then_504_into_a_duplicate_422(
    fake: FakeAlpacaBroker, client: TradingClient
) -> None:
    """Why the adapter treats 422 "must be unique" as ambiguous: the first try did create it."""
    fake.set_price("AAPL", "50")
    fake.accept_then_504()
    with pytest.raises(APIError) as caught:
        client.submit_order(market("AAPL", 3, "contract-504"))
    assert caught.value.status_code == 422
    assert [p for m, p in fake.requests if m == "POST"] == ["/v2/orders", "/v2/orders"]
    assert client.get_order_by_client_id("contract-504").status is OrderStatus.FILLED


def test_sdk_retries_a_429_and_then_succeeds(fake: FakeAlpacaBroker, client: TradingClient) -> None:
    fake.rate_limit(2)
    order = client.submit_order(market("AAPL", 1, "contract-429"))
    assert order.client_order_id == "contract-429"
    assert len(fake.book.orders) == 1
    assert [m for m, _ in fake.requests].count("POST") == 3


def test_sdk_retry_settings_live_where_the_adapter_tunes_them(client: TradingClient) -> None:
    assert (client._retry, client._retry_codes) == (3, [429, 504])
    assert hasattr(client, "_retry_wait")
    assert hasattr(client, "_session")


def test_sdk_wrong_key_gets_401_and_an_unauthorized_stream(fake: FakeAlpacaBroker) -> None:
    with pytest.raises(APIError) as caught:
        TradingClient("wrong", "wrong", url_override=fake.url).get_account()
    assert caught.value.status_code == 401
    stream = TradingStream("wrong", "wrong", url_override=fake.stream_url)

    async def attempt() -> None:
        await stream._connect()
        try:
            await stream._auth()
        finally:
            await stream.close()

    with pytest.raises(ValueError, match="failed to authenticate"):
        asyncio.run(attempt())


def test_sdk_rejected_order_arrives_as_a_rejected_update(
    fake: FakeAlpacaBroker, client: TradingClient, updates: queue.Queue[TradeUpdate]
) -> None:
    fake.reject_symbol("BAD")
    client.submit_order(market("BAD", 1, "contract-reject"))
    (update,) = events(updates, 1)
    assert update.event == "rejected"
    assert update.order.status is OrderStatus.REJECTED


def test_fake_runs_as_a_module_and_prints_its_urls() -> None:
    command = [
        sys.executable,
        "-m",
        "tests.fakes.alpaca_broker",
        "--port",
        "0",
        "--price",
        "AAPL=10",
    ]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            stream_url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            assert stream_url == url.replace("http", "ws") + "/stream"
            client = TradingClient(KEY_ID, SECRET_KEY, url_override=url)
            assert client.submit_order(market("AAPL", 1, "cli-1")).status is OrderStatus.FILLED
        finally:
            process.terminate()
        assert process.wait(timeout=10) == 0
