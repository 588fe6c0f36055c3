"""The real ib_async client against FakeTws: the gate for any ib_async upgrade (ADR 0035).

Each test drives ib_async's own `IB` (no adapter of ours) over the socket, so a new ib_async
version that reads or writes the protocol differently fails here before it reaches the adapter.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from ib_async import IB, LimitOrder, MarketOrder, Stock

from tests.fakes.tws import FakeTws

CLIENT_ID = 7
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def tws() -> Iterator[FakeTws]:
    with FakeTws() as fake:
        fake.set_price("AAPL", 101.25)
        yield fake


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 10))


async def connected(tws: FakeTws, client_id: int = CLIENT_ID) -> IB:
    ib = IB()
    await ib.connectAsync(
        "127.0.0.1", tws.port, clientId=client_id, timeout=2, raiseSyncErrors=True
    )
    return ib


async def until(check: Any, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def aapl() -> Stock:
    return Stock("AAPL", "SMART", "USD")


def test_connect_async_start_up_requests_all_answered_quickly(tws: FakeTws) -> None:
    async def scenario() -> tuple[float, list[str], dict[str, str]]:
        started = time.perf_counter()
        ib = await connected(tws)
        took = time.perf_counter() - started
        summary = {v.tag: v.value for v in await ib.accountSummaryAsync()}
        accounts = ib.managedAccounts()
        ib.disconnect()
        return took, accounts, summary

    took, accounts, summary = run(scenario())
    assert took < 1.0
    assert accounts == ["DU1234567"]
    assert summary["NetLiquidation"] == "100000.0"
    assert summary["AccountType"] == "INDIVIDUAL"


def test_market_order_fills_with_commission_and_live_position(tws: FakeTws) -> None:
    async def scenario() -> tuple[Any, ...]:
        ib = await connected(tws)
        trade = ib.placeOrder(aapl(), MarketOrder("BUY", 10, orderRef="coid-1"))
        await until(
            lambda: trade.isDone() and trade.fills and trade.fills[0].commissionReport.execId
        )
        await until(lambda: bool(ib.positions()))
        fill = trade.fills[0]
        position = ib.positions()[0]
        result = (trade.orderStatus.status, fill, position, trade.order.orderId)
        ib.disconnect()
        return result

    status, fill, position, order_id = run(scenario())
    assert status == "Filled"
    assert (fill.execution.shares, fill.execution.price) == (10.0, 101.25)
    assert fill.execution.orderRef == "coid-1"
    assert fill.execution.side == "BOT"
    assert fill.commissionReport.commission == 1.0
    assert (position.contract.symbol, position.position, position.avgCost) == ("AAPL", 10.0, 101.25)
    assert tws.placed == [(CLIENT_ID, order_id, "coid-1")]


def test_limit_order_works_until_cancelled(tws: FakeTws) -> None:
    async def scenario() -> tuple[str, str, int]:
        ib = await connected(tws)
        codes: list[int] = []
        ib.errorEvent += lambda req_id, code, text, contract: codes.append(code)
        trade = ib.placeOrder(aapl(), LimitOrder("BUY", 5, 90.0, orderRef="coid-lmt"))
        await until(lambda: trade.orderStatus.status == "Submitted")
        working = trade.orderStatus.status
        ib.cancelOrder(trade.order)
        await until(lambda: trade.orderStatus.status == "Cancelled" and bool(codes))
        ib.disconnect()
        return working, trade.orderStatus.status, codes[0]

    working, final, code = run(scenario())
    assert (working, final, code) == ("Submitted", "Cancelled", 202)


def test_limit_order_fills_when_the_price_reaches_it(tws: FakeTws) -> None:
    async def scenario() -> tuple[str, float]:
        ib = await connected(tws)
        trade = ib.placeOrder(aapl(), LimitOrder("SELL", 3, 105.0, orderRef="coid-sell"))
        await until(lambda: trade.orderStatus.status == "Submitted")
        await asyncio.to_thread(tws.set_price, "AAPL", 105.5)
        await until(lambda: trade.orderStatus.status == "Filled")
        ib.disconnect()
        return trade.orderStatus.status, trade.fills[0].execution.price

    assert run(scenario()) == ("Filled", 105.5)


def test_partial_fills_add_up_to_the_order(tws: FakeTws) -> None:
    tws.fill_in_parts(3)

    async def scenario() -> list[float]:
        ib = await connected(tws)
        trade = ib.placeOrder(aapl(), MarketOrder("BUY", 10, orderRef="coid-parts"))
        await until(lambda: trade.orderStatus.status == "Filled" and len(trade.fills) == 3)
        ib.disconnect()
        return [f.execution.shares for f in trade.fills]

    shares = run(scenario())
    assert sum(shares) == 10.0
    assert len(shares) == 3


def test_reject_arrives_as_error_201_and_ends_the_trade(tws: FakeTws) -> None:
    tws.reject_next()

    async def scenario() -> tuple[str, list[int]]:
        ib = await connected(tws)
        trade = ib.placeOrder(aapl(), MarketOrder("BUY", 1, orderRef="coid-rej"))
        await until(trade.isDone)
        ib.disconnect()
        return trade.orderStatus.status, [entry.errorCode for entry in trade.log]

    status, codes = run(scenario())
    assert status == "Cancelled"  # how ib_async records an order error
    assert 201 in codes


def test_reconnect_same_client_id_sees_working_order_and_executions(tws: FakeTws) -> None:
    async def scenario() -> tuple[list[tuple[str, str]], set[str], set[str], list[str]]:
        ib = await connected(tws)
        filled = ib.placeOrder(aapl(), MarketOrder("BUY", 2, orderRef="coid-a"))
        working = ib.placeOrder(aapl(), LimitOrder("BUY", 1, 50.0, orderRef="coid-b"))
        await until(lambda: filled.isDone() and working.orderStatus.status == "Submitted")
        exec_ids = {f.execution.execId for f in filled.fills}
        ib.disconnect()
        ib = await connected(tws)
        open_refs = [(t.order.orderRef, t.orderStatus.status) for t in ib.openTrades()]
        seen = {f.execution.execId for f in ib.fills()}
        done = [t.order.orderRef for t in await ib.reqCompletedOrdersAsync(False)]
        reopened = next(t for t in ib.openTrades() if t.order.orderRef == "coid-b")
        ib.cancelOrder(reopened.order)
        await until(lambda: reopened.orderStatus.status == "Cancelled")
        ib.disconnect()
        return open_refs, exec_ids, seen, done

    open_refs, exec_ids, seen, done = run(scenario())
    assert open_refs == [("coid-b", "Submitted")]
    assert seen == exec_ids
    assert done == ["coid-a"]


def test_second_connection_with_the_same_client_id_gets_326(tws: FakeTws) -> None:
    async def scenario() -> list[int]:
        first = await connected(tws)
        second = IB()
        codes: list[int] = []
        second.errorEvent += lambda req_id, code, text, contract: codes.append(code)
        with pytest.raises((ConnectionError, TimeoutError)):
            await second.connectAsync("127.0.0.1", tws.port, clientId=CLIENT_ID, timeout=0.5)
        first.disconnect()
        return codes

    assert run(scenario()) == [326]


def test_connectivity_codes_reach_the_error_event(tws: FakeTws) -> None:
    async def scenario() -> list[int]:
        ib = await connected(tws)
        codes: list[int] = []
        ib.errorEvent += lambda req_id, code, text, contract: codes.append(code)
        for code in (1100, 1102):
            await asyncio.to_thread(tws.notify, code)
        await until(lambda: len(codes) >= 2)
        ib.disconnect()
        return codes

    assert run(scenario()) == [1100, 1102]


def test_execution_correction_keeps_the_exec_id_prefix(tws: FakeTws) -> None:
    async def scenario() -> list[str]:
        ib = await connected(tws)
        trade = ib.placeOrder(aapl(), MarketOrder("BUY", 4, orderRef="coid-fix"))
        await until(trade.isDone)
        original = trade.fills[0].execution.execId
        await asyncio.to_thread(tws.correct_execution, original, 101.0)
        await until(lambda: len(ib.fills()) == 2)
        exec_ids = [f.execution.execId for f in ib.fills()]
        ib.disconnect()
        return exec_ids

    original, corrected = run(scenario())
    assert original.rpartition(".")[0] == corrected.rpartition(".")[0]
    assert original != corrected


def test_real_time_bars_reach_the_subscriber(tws: FakeTws) -> None:
    async def scenario() -> list[tuple[float, float, float, float, float]]:
        ib = await connected(tws)
        bars = ib.reqRealTimeBars(aapl(), 5, "TRADES", False)
        await until(lambda: bool(tws.sessions and tws.sessions[0].bars))
        await asyncio.to_thread(tws.push_bar, "AAPL", 100.0, 102.0, 99.5, 101.0, 1200.0)
        await until(lambda: len(bars) == 1)
        ib.disconnect()
        return [(b.open_, b.high, b.low, b.close, b.volume) for b in bars]

    assert run(scenario()) == [(100.0, 102.0, 99.5, 101.0, 1200.0)]


def test_module_entry_point_prints_host_port_and_serves() -> None:
    command = [sys.executable, "-m", "tests.fakes.tws", "--port", "0", "--price", "AAPL=50"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        host, _, port = process.stdout.readline().strip().rpartition(":")

        async def scenario() -> tuple[str, float]:
            ib = IB()
            await ib.connectAsync(host, int(port), clientId=3, timeout=2, raiseSyncErrors=True)
            trade = ib.placeOrder(aapl(), MarketOrder("BUY", 1, orderRef="coid-cli"))
            await until(trade.isDone)
            ib.disconnect()
            return trade.orderStatus.status, trade.orderStatus.avgFillPrice

        assert host == "127.0.0.1"
        assert run(scenario()) == ("Filled", 50.0)
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
