"""Orders with their fills and status history, fills by run, strategy, symbol and time, and a
session's positions: what the OMS store wrote for a paper session, read through /v1."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db import oms_store
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from quant_domain import Fill, Order, OrderSide, OrderStatus
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import START, Seeder


def _trade(
    seed: Seeder,
    run_id: uuid.UUID,
    coid: str,
    *,
    strategy: str = "momentum_v1",
    symbol: str = "SP500",
    side: OrderSide = OrderSide.BUY,
    fills: tuple[tuple[str, str], ...] = (("10", "100"),),
    day: int = 0,
) -> None:
    """An order written ahead, accepted, then filled in `fills` (quantity, price) parts, as the
    execution service stores a paper session's order through quant_db.oms_store."""
    at = START + timedelta(days=day)
    quantity = sum((Decimal(q) for q, _ in fills), Decimal(0))

    async def body(session: AsyncSession) -> None:
        order = Order(
            symbol=symbol,
            side=side,
            quantity=quantity,
            client_order_id=coid,
            strategy_id=strategy,
            reason="fast SMA crossed above slow",
        )
        await oms_store.record_pending(session, run_id, order, at=at)
        await oms_store.record_transition(
            session,
            run_id,
            coid,
            OrderStatus.ACCEPTED,
            at=at,
            idempotency_key=f"{coid}:accepted",
            broker_order_id=f"paper-{coid}",
        )
        for k, (part, price) in enumerate(fills):
            await oms_store.record_fill(
                session,
                run_id,
                Fill(
                    fill_id=f"{coid}-f{k}",
                    client_order_id=coid,
                    symbol=symbol,
                    side=side,
                    quantity=Decimal(part),
                    price=Decimal(price),
                    commission=Decimal("1"),
                    timestamp=at + timedelta(minutes=k),
                    strategy_id=strategy,
                ),
            )

    seed.call(body)


def _refused(seed: Seeder, run_id: uuid.UUID, coid: str) -> None:
    """An entry the risk gate refused under halt_entries: written, then REJECTED with its code."""

    async def body(session: AsyncSession) -> None:
        order = Order(
            symbol="SP500",
            side=OrderSide.BUY,
            quantity=Decimal(5),
            client_order_id=coid,
            strategy_id="momentum_v1",
        )
        await oms_store.record_pending(session, run_id, order, at=START)
        await oms_store.record_transition(
            session,
            run_id,
            coid,
            OrderStatus.REJECTED,
            at=START,
            idempotency_key=f"{coid}:rejected",
            reason="the kill switch is halt_entries: only orders that reduce a position pass",
            code="HALT_ENTRIES",
        )

    seed.call(body)


def test_an_order_is_read_with_its_fills_and_every_status_it_took(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    run_id = seed.run(run_type=RunType.PAPER, status=RunStatus.RUNNING)
    _trade(seed, run_id, "c-1", fills=(("4", "100"), ("6", "105")))
    listing = client.get(f"/v1/orders?run_id={run_id}", headers=viewer.headers).json()
    [order_id] = [item["id"] for item in listing["items"]]

    response = client.get(f"/v1/orders/{order_id}", headers=viewer.headers)

    assert response.status_code == 200, response.text
    order = response.json()
    assert (order["status"], order["filled_quantity"], order["fill_price"]) == ("filled", 10, 103)
    assert order["broker_order_id"] == "paper-c-1"
    assert [
        (f["fill_id"], f["quantity"], f["price"], f["strategy_id"]) for f in order["fills"]
    ] == [
        ("c-1-f0", 4, 100, "momentum_v1"),
        ("c-1-f1", 6, 105, "momentum_v1"),
    ]
    assert [e["status"] for e in order["events"]] == [
        "pending_submit",
        "accepted",
        "partially_filled",
        "filled",
    ]
    assert order["events"][0]["reason"] == "fast SMA crossed above slow"


def test_a_refused_order_shows_its_code_and_reason_in_its_history(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    run_id = seed.run(run_type=RunType.PAPER, status=RunStatus.RUNNING)
    _refused(seed, run_id, "c-halted")
    [item] = client.get(
        f"/v1/orders?run_id={run_id}&status=rejected", headers=viewer.headers
    ).json()["items"]
    order = client.get(f"/v1/orders/{item['id']}", headers=viewer.headers).json()
    assert (order["status"], order["code"], order["fills"]) == ("rejected", "HALT_ENTRIES", [])
    assert "halt_entries" in order["reason"]
    assert [(e["status"], e["code"]) for e in order["events"]] == [
        ("pending_submit", ""),
        ("rejected", "HALT_ENTRIES"),
    ]


def test_an_unknown_order_is_404_and_a_bad_id_422(client: TestClient, seed: Seeder) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    assert_error(client.get("/v1/orders/424242", headers=viewer.headers), 404, "not_found")
    assert_error(
        client.get("/v1/orders/zero", headers=viewer.headers),
        422,
        "validation_error",
        field="path.order_id",
    )


def test_fills_filter_on_run_strategy_symbol_and_time_newest_first(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    session = seed.run(run_type=RunType.PAPER, status=RunStatus.RUNNING)
    other = seed.run(run_type=RunType.PAPER, status=RunStatus.COMPLETED)
    _trade(seed, session, "a-1", fills=(("4", "100"), ("6", "101")), day=0)
    _trade(seed, session, "a-2", strategy="buy_and_hold", symbol="GOOG", day=1)
    _trade(seed, session, "a-3", side=OrderSide.SELL, fills=(("3", "110"),), day=2)
    _trade(seed, other, "a-1", day=3)  # client order ids repeat across sessions by design

    def get(query: str) -> Any:
        response = client.get(f"/v1/fills{query}", headers=viewer.headers)
        assert response.status_code == 200, response.text
        return response.json()

    everything = get("")
    assert everything["total"] == 5
    newest = everything["items"][0]
    assert (newest["run_id"], newest["client_order_id"]) == (str(other), "a-1")
    in_session = get(f"?run_id={session}")
    assert [f["fill_id"] for f in in_session["items"]] == ["a-3-f0", "a-2-f0", "a-1-f1", "a-1-f0"]
    by_strategy = get(f"?run_id={session}&strategy=buy_and_hold")
    assert [(f["symbol"], f["strategy_id"]) for f in by_strategy["items"]] == [
        ("GOOG", "buy_and_hold")
    ]
    assert get(f"?run_id={session}&strategy=buy_and_hold")["total"] == 1
    assert get("?symbol=GOOG")["total"] == 1
    assert get("?from=2024-01-03T00:00:00Z&to=2024-01-05T00:00:00Z")["total"] == 2  # days 1, 2
    page_two = get(f"?run_id={session}&per_page=3&page=2")
    assert (page_two["total"], len(page_two["items"])) == (4, 1)
    assert_error(
        client.get("/v1/fills?from=2024-02-01&to=2024-01-01", headers=viewer.headers),
        422,
        "validation_error",
        field="query.to",
    )
    assert_error(
        client.get("/v1/fills?run_id=nope", headers=viewer.headers),
        422,
        "validation_error",
        field="query.run_id",
    )


def test_orders_fills_and_positions_filter_on_the_session_and_the_run_type(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    first = seed.run(run_type=RunType.PAPER, status=RunStatus.COMPLETED)
    second = seed.run(run_type=RunType.PAPER, status=RunStatus.RUNNING)
    backtest = seed.run()
    _trade(seed, first, "s-1")
    _trade(seed, second, "s-1", fills=(("7", "100"),))
    _trade(seed, second, "s-2", symbol="GOOG")
    _trade(seed, backtest, "b-1")

    def total(path: str) -> int:
        response = client.get(path, headers=viewer.headers)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert (total("/v1/orders"), total("/v1/orders?run_type=paper")) == (4, 3)
    assert total("/v1/orders?run_type=backtest") == 1
    assert (total("/v1/fills"), total("/v1/fills?run_type=paper")) == (4, 3)
    assert_error(
        client.get("/v1/orders?run_type=dream", headers=viewer.headers),
        422,
        "validation_error",
        field="query.run_type",
    )

    orders = client.get(f"/v1/orders?run_id={second}", headers=viewer.headers).json()
    assert orders["total"] == 2
    assert {o["run_id"] for o in orders["items"]} == {str(second)}
    positions = client.get(f"/v1/positions?run_id={second}", headers=viewer.headers).json()
    assert sorted((p["symbol"], p["quantity"]) for p in positions["items"]) == [
        ("GOOG", 10),
        ("SP500", 7),
    ]
    assert client.get(f"/v1/positions?run_id={first}", headers=viewer.headers).json()["total"] == 1
