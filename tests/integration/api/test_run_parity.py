"""GET /v1/runs/{run_id}/parity lines two stored runs up and names every difference."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.schema import Fill, Order
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Seeder, days

STEPS = days(5)
CURVE = [(ts, 100_000 + i) for i, ts in enumerate(STEPS)]


def _trades(seed: Seeder, run_id: uuid.UUID, account: str, prices: list[str]) -> None:
    """A buy of 10 SP500 at each price, one per step from the second, with its fill."""

    async def body(session: AsyncSession) -> None:
        for k, (price, at) in enumerate(zip(prices, STEPS[1:], strict=False), start=1):
            cid = f"momentum_v1-{account}-{at:%Y%m%d}-{k:06d}"
            session.add(_order(run_id, cid, at, Decimal(price)))
            await session.flush()
            session.add(
                Fill(
                    run_id=run_id,
                    fill_id=f"{cid}-f",
                    client_order_id=cid,
                    symbol="SP500",
                    side="buy",
                    quantity=Decimal(10),
                    price=Decimal(price),
                    commission=Decimal(1),
                    slippage=Decimal(0),
                    ts=at,
                )
            )

    seed.call(body)


def _order(run_id: uuid.UUID, cid: str, at: datetime, price: Decimal) -> Order:
    return Order(
        run_id=run_id,
        strategy_id="momentum_v1",
        client_order_id=cid,
        symbol="SP500",
        side="buy",
        type="market",
        time_in_force="day",
        quantity=Decimal(10),
        status="filled",
        submitted_at=at,
        filled_quantity=Decimal(10),
        fill_price=price,
        updated_at=at,
    )


def test_a_paper_session_is_compared_with_its_strategys_latest_backtest_by_default(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    older = seed.run(equity=CURVE)
    _trades(seed, older, "bt0000000000", ["101", "102"])
    backtest = seed.run(equity=CURVE)
    _trades(seed, backtest, "bt0000000000", ["101", "102", "103"])
    paper = seed.run(run_type=RunType.PAPER, equity=CURVE)
    _trades(seed, paper, "pp0000000000", ["101", "102", "103"])

    response = client.get(f"/v1/runs/{paper}/parity", headers=viewer.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["run"]["id"], body["against"]["id"]) == (str(paper), str(backtest))
    assert (body["run"]["type"], body["against"]["orders"], body["against"]["steps"]) == (
        "paper",
        3,
        5,
    )
    assert body["identical"] is True
    assert body["summary"] == "identical: 3 orders, final equity 100004.00"
    assert (body["orders"], body["counts"], body["differences"]) == (3, {"identical": 3}, [])
    assert (body["notes"], body["truncated"]) == ([], False)

    against_older = client.get(
        f"/v1/runs/{paper}/parity", params={"against": str(older)}, headers=viewer.headers
    ).json()
    assert against_older["identical"] is False
    [line] = against_older["differences"]
    assert (line["verdict"], line["decided_at"], line["symbol"]) == (
        "different decision",
        STEPS[3].isoformat().replace("+00:00", "Z"),
        "SP500",
    )
    assert line["detail"].startswith(f"only in paper {str(paper)[:8]}: buy 10 SP500, filled")


def test_each_difference_is_returned_with_its_verdict_and_limit_cuts_the_list(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    a = seed.run(equity=CURVE)
    _trades(seed, a, "bt0000000000", ["101", "102", "103"])
    b = seed.run(equity=[point for point in CURVE if point[0] != STEPS[3]])
    _trades(seed, b, "bt0000000000", ["101", "102.5"])

    body = client.get(
        f"/v1/runs/{a}/parity", params={"against": str(b)}, headers=viewer.headers
    ).json()
    assert body["identical"] is False
    assert body["counts"] == {"identical": 1, "different fill price": 1, "missed bar": 2}
    assert [(d["verdict"], d["client_order_id"] != "") for d in body["differences"]] == [
        ("different fill price", True),
        ("missed bar", False),
        ("missed bar", True),
    ]
    assert body["differences"][0]["detail"].endswith(f"backtest {str(b)[:8]}: 102.5")

    cut = client.get(
        f"/v1/runs/{a}/parity", params={"against": str(b), "limit": 1}, headers=viewer.headers
    ).json()
    assert (len(cut["differences"]), cut["truncated"]) == (1, True)


def test_unknown_runs_are_404_naming_which_and_malformed_ids_422(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    run = seed.run(equity=CURVE)
    missing = uuid.uuid4()
    error = assert_error(
        client.get(f"/v1/runs/{missing}/parity", headers=viewer.headers), 404, "not_found"
    )
    assert error["message"] == f"no run {missing} exists"
    error = assert_error(
        client.get(
            f"/v1/runs/{run}/parity", params={"against": str(missing)}, headers=viewer.headers
        ),
        404,
        "not_found",
        field="query.against",
    )
    assert error["message"] == f"against: no run {missing} exists"
    # a backtest with no paper session of its strategy has nothing to be compared with
    error = assert_error(
        client.get(f"/v1/runs/{run}/parity", headers=viewer.headers),
        404,
        "not_found",
        field="query.against",
    )
    assert "pass `against`" in error["message"]
    assert_error(
        client.get("/v1/runs/nope/parity", headers=viewer.headers),
        422,
        "validation_error",
        field="path.run_id",
    )
    assert_error(
        client.get(f"/v1/runs/{run}/parity?against=nope", headers=viewer.headers),
        422,
        "validation_error",
        field="query.against",
    )


def test_a_running_paper_session_without_steps_is_compared_and_says_what_it_cannot_tell(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    backtest = seed.run(equity=CURVE)
    _trades(seed, backtest, "bt0000000000", ["101"])
    paper = seed.run(run_type=RunType.PAPER, status=RunStatus.RUNNING)
    _trades(seed, paper, "pp0000000000", ["101"])
    body = client.get(f"/v1/runs/{paper}/parity", headers=viewer.headers).json()
    assert (body["identical"], body["run"]["steps"], body["run"]["final_equity"]) == (
        True,
        None,
        None,
    )
    assert body["notes"] == [
        f"paper {str(paper)[:8]} stored no steps: an order only the other run has cannot be "
        "told apart from a missed bar",
        f"paper {str(paper)[:8]} stored no final equity",
    ]
