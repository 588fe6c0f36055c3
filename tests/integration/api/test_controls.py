"""Kill switch and mode transitions (persisted, audited), alerts, positions and orders."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.app import create_app
from quant_bus.streams import KILL_SWITCH
from quant_db.schema import AuditEntry, Strategy
from quant_db.schema.execution import ReconciliationState
from quant_db.schema.identity import Role
from quant_db.schema.runs import Mode
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import START, Seeder
from tests.integration.api.test_live_guard import LIMITS, live_ready, prepare


async def back_to_backtest(session: AsyncSession) -> None:
    await session.execute(
        update(Strategy).where(Strategy.id == "momentum_v1").values(mode=Mode.BACKTEST)
    )
    await session.commit()


def test_the_kill_switch_is_persisted_across_app_instances_and_audited(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        seed = Seeder(client)
        admin = seed.user("admin", Role.ADMIN)
        before = client.get("/v1/controls/kill-switch", headers=admin.headers).json()
        assert (before["mode"], before["engaged"], before["reason"], before["changed_by"]) == (
            "active",
            False,
            "",
            None,
        )
        response = client.post(
            "/v1/controls/kill-switch",
            json={"engaged": True, "reason": "  broker outage  "},
            headers={**admin.headers, "X-Request-ID": "halt-1"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["reason"] == "broker outage"

    with TestClient(create_app(settings, database_url, redis_url)) as client:
        seed = Seeder(client)
        viewer = seed.user("viewer", Role.VIEWER)
        after = client.get("/v1/controls/kill-switch", headers=viewer.headers).json()
        [(entry,)] = seed.rows(select(AuditEntry))
    # the old engage form sets halt_entries (ADR 0024)
    assert (after["mode"], after["engaged"], after["reason"], after["changed_by"]) == (
        "halt_entries",
        True,
        "broker outage",
        "admin",
    )
    assert (entry.action, entry.target_type, entry.user_id, entry.request_id) == (
        "kill_switch.set_mode",
        "kill_switch",
        admin.id,
        "halt-1",
    )
    assert entry.detail["before"] == {"mode": "active", "reason": ""}
    assert entry.detail["after"] == {"mode": "halt_entries", "reason": "broker outage"}
    assert entry.detail["via"] == "api"


def test_an_admin_sets_each_mode_and_each_change_is_audited_before_and_after(
    client: TestClient, seed: Seeder
) -> None:
    admin, viewer = seed.user("admin", Role.ADMIN), seed.user("viewer", Role.VIEWER)
    steps = [
        ("reduce_only", True, "daily loss near the limit"),
        ("flatten_and_halt", True, "broker double-filled"),
        ("halt_entries", True, "flat now; hold"),
        ("active", False, "all clear"),
    ]
    for mode, engaged, reason in steps:
        response = client.put(
            "/v1/controls/kill-switch",
            json={"mode": mode, "reason": reason},
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text
        seen = client.get("/v1/controls/kill-switch", headers=viewer.headers).json()
        assert (seen["mode"], seen["engaged"], seen["reason"], seen["changed_by"]) == (
            mode,
            engaged,
            reason,
            "admin",
        )
    entries = [row[0] for row in seed.rows(select(AuditEntry).order_by(AuditEntry.id))]
    assert [(e.detail["before"]["mode"], e.detail["after"]["mode"]) for e in entries] == [
        ("active", "reduce_only"),
        ("reduce_only", "flatten_and_halt"),
        ("flatten_and_halt", "halt_entries"),
        ("halt_entries", "active"),
    ]
    assert entries[1].detail["before"]["reason"] == "daily loss near the limit"
    assert {e.action for e in entries} == {"kill_switch.set_mode"}

    released = client.post(
        "/v1/controls/kill-switch",
        json={"engaged": True, "reason": "drill"},
        headers=admin.headers,
    ).json()
    assert released["mode"] == "halt_entries"
    released = client.post(
        "/v1/controls/kill-switch",
        json={"engaged": False, "reason": "drill over"},
        headers=admin.headers,
    ).json()
    assert (released["mode"], released["engaged"]) == ("active", False)


def test_setting_a_mode_refuses_an_unknown_mode_a_blank_reason_and_a_non_admin(
    client: TestClient, seed: Seeder
) -> None:
    admin, trader = seed.user("admin", Role.ADMIN), seed.user("trader", Role.TRADER)
    for body, field in (
        ({"mode": "paused", "reason": "x"}, "body.mode"),
        ({"mode": "HALT_ENTRIES", "reason": "x"}, "body.mode"),
        ({"reason": "x"}, "body.mode"),
        ({"mode": "halt_entries", "reason": "  "}, "body.reason"),
        ({"mode": "halt_entries"}, "body.reason"),
        ({"mode": "halt_entries", "reason": "x", "engaged": True}, "body.engaged"),
    ):
        response = client.put("/v1/controls/kill-switch", json=body, headers=admin.headers)
        assert_error(response, 422, "validation_error", field=field)
    refused = client.put(
        "/v1/controls/kill-switch",
        json={"mode": "halt_entries", "reason": "x"},
        headers=trader.headers,
    )
    assert_error(refused, 403, "forbidden")
    assert seed.count("audit_log") == 0
    state = client.get("/v1/controls/kill-switch", headers=trader.headers).json()
    assert state["mode"] == "active"


def test_a_signed_in_admin_can_trip_the_kill_switch_while_redis_is_down(
    tmp_path: Path, database_url: str
) -> None:
    """The kill switch is the emergency stop: it is never rate limited, so an outage of the
    rate-limit store (which fails every limited route closed) cannot keep it from an admin."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    with TestClient(create_app(make_settings(tmp_path), database_url, dead)) as client:
        seed = Seeder(client)
        admin = seed.user("admin", Role.ADMIN)
        assert_error(client.get("/v1/strategies", headers=admin.headers), 503, "unavailable")
        response = client.put(
            "/v1/controls/kill-switch",
            json={"mode": "flatten_and_halt", "reason": "redis and broker both down"},
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text
        assert (response.json()["mode"], response.json()["engaged"]) == ("flatten_and_halt", True)
        [(entry,)] = seed.rows(select(AuditEntry.action))
    assert entry == "kill_switch.set_mode"


def test_the_kill_switch_needs_a_reason_and_an_admin(client: TestClient, seed: Seeder) -> None:
    admin, trader = seed.user("admin", Role.ADMIN), seed.user("trader", Role.TRADER)
    for reason in ("", "   "):
        response = client.post(
            "/v1/controls/kill-switch",
            json={"engaged": True, "reason": reason},
            headers=admin.headers,
        )
        assert_error(response, 422, "validation_error", field="body.reason")
    missing = client.post("/v1/controls/kill-switch", json={"engaged": True}, headers=admin.headers)
    assert_error(missing, 422, "validation_error", field="body.reason")
    refused = client.post(
        "/v1/controls/kill-switch", json={"engaged": True, "reason": "x"}, headers=trader.headers
    )
    assert_error(refused, 403, "forbidden")
    assert seed.count("audit_log") == 0


def test_a_mode_transition_is_persisted_and_audited_with_reason_and_user(
    client: TestClient, seed: Seeder
) -> None:
    admin = seed.user("admin", Role.ADMIN)
    body = {"strategy_id": "momentum_v1", "mode": "PAPER", "reason": "walk-forward passed"}
    response = client.post("/v1/controls/mode-transition", json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["previous_mode"], answer["mode"], answer["changed_by"]) == (
        "BACKTEST",
        "PAPER",
        "admin",
    )
    [(mode,)] = seed.rows(select(Strategy.mode).where(Strategy.id == "momentum_v1"))
    assert mode is Mode.PAPER
    [(entry,)] = seed.rows(select(AuditEntry))
    assert (entry.action, entry.target_id, entry.user_id) == (
        "strategy.mode_transition",
        "momentum_v1",
        admin.id,
    )
    assert entry.detail["reason"] == "walk-forward passed"
    assert (entry.detail["before"], entry.detail["after"]) == ("BACKTEST", "PAPER")
    again = client.post("/v1/controls/mode-transition", json=body, headers=admin.headers)
    assert_error(again, 409, "conflict")
    unknown = client.post(
        "/v1/controls/mode-transition", json={**body, "strategy_id": "nope"}, headers=admin.headers
    )
    assert_error(unknown, 422, "validation_error", field="body.strategy_id")


def test_controls_document_what_they_enforce_today(client: TestClient) -> None:
    spec = client.get("/v1/openapi.json").json()
    transition = spec["paths"]["/v1/controls/mode-transition"]["post"]["description"]
    assert "Enforced by the execution service" in transition
    assert "never the simulated one" in transition  # LIVE trades only on a real broker
    for method in ("get", "put", "post"):
        text = spec["paths"]["/v1/controls/kill-switch"][method]["description"]
        assert "every paper session of the execution service" in text
        assert "every live session" in text
    modes = spec["components"]["schemas"]["KillSwitchModeUpdate"]["properties"]["mode"]
    assert "$ref" in modes or "enum" in modes


def test_alerts_filter_on_acknowledgement_and_are_acknowledged_once(
    client: TestClient, seed: Seeder
) -> None:
    trader, viewer = seed.user("trader", Role.TRADER), seed.user("viewer", Role.VIEWER)
    open_alert = seed.alert("open")
    seed.alert("done", acknowledged=True)
    pending = client.get("/v1/alerts?acknowledged=false", headers=viewer.headers).json()
    assert [a["message"] for a in pending["items"]] == ["open"]
    assert client.get("/v1/alerts", headers=viewer.headers).json()["total"] == 2

    assert_error(
        client.patch(f"/v1/alerts/{open_alert}/acknowledge", headers=viewer.headers),
        403,
        "forbidden",
    )
    response = client.patch(f"/v1/alerts/{open_alert}/acknowledge", headers=trader.headers)
    assert response.status_code == 200, response.text
    assert response.json()["acknowledged_by"] == trader.id
    assert response.json()["acknowledged_at"] is not None
    again = client.patch(f"/v1/alerts/{open_alert}/acknowledge", headers=trader.headers)
    assert_error(again, 409, "conflict")
    assert client.get("/v1/alerts?acknowledged=false", headers=viewer.headers).json()["total"] == 0
    [(action,)] = seed.rows(select(AuditEntry.action))
    assert action == "alert.acknowledge"
    assert_error(
        client.patch("/v1/alerts/999999/acknowledge", headers=trader.headers), 404, "not_found"
    )


def test_positions_are_listed_filtered_and_valued(client: TestClient, seed: Seeder) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    run_id = seed.run()
    sp = seed.position(run_id, "SP500", "10")
    seed.position(run_id, "GOOG", "0")
    listing = client.get("/v1/positions", headers=viewer.headers).json()
    assert listing["total"] == 2
    open_only = client.get("/v1/positions?open_only=true&symbol=SP500", headers=viewer.headers)
    [position] = open_only.json()["items"]
    assert position["id"] == sp
    # figures are JSON numbers, like every other figure the API sends
    assert (position["market_value"], position["unrealized_pnl"]) == (1100, 100)
    one = client.get(f"/v1/positions/{sp}", headers=viewer.headers).json()
    assert one["symbol"] == "SP500"
    assert_error(client.get("/v1/positions/424242", headers=viewer.headers), 404, "not_found")


def test_orders_filter_on_strategy_symbol_status_and_dates_with_totals(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    run_id = seed.run()
    for day in range(6):
        seed.order(run_id, submitted_at=START + timedelta(days=day))
    seed.order(run_id, symbol="GOOG", status="cancelled", submitted_at=START + timedelta(days=10))
    seed.order(run_id, strategy_id="buy_and_hold", submitted_at=START + timedelta(days=11))

    def get(query: str) -> dict[str, object]:
        response = client.get(f"/v1/orders{query}", headers=viewer.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    everything = get("?per_page=3")
    assert (everything["total"], len(everything["items"])) == (8, 3)  # type: ignore[arg-type]
    assert everything["items"][0]["strategy_id"] == "buy_and_hold"  # type: ignore[index]
    newest = everything["items"][0]  # type: ignore[index]
    assert (newest["broker_order_id"], newest["code"]) == (None, "")
    assert newest["updated_at"] is not None
    assert get("?strategy=momentum_v1")["total"] == 7
    assert get("?symbol=GOOG&status=cancelled")["total"] == 1
    window = get("?from=2024-01-03T00:00:00Z&to=2024-01-06T00:00:00")
    assert window["total"] == 3  # Jan 3, 4, 5 at 21:00 UTC; a time without offset is UTC
    last_page = get("?per_page=3&page=3")
    assert len(last_page["items"]) == 2  # type: ignore[arg-type]
    backwards = client.get("/v1/orders?from=2024-02-01&to=2024-01-01", headers=viewer.headers)
    assert_error(backwards, 422, "validation_error", field="query.to")


def test_live_is_entered_only_from_paper_and_only_with_the_strategy_id_confirmed(
    client: TestClient, seed: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = seed.user("admin", Role.ADMIN)
    live_ready(monkeypatch)  # the LIVE guard's other conditions (test_live_guard.py) hold
    prepare(seed, risk=LIMITS, state=ReconciliationState.CLEAN)
    seed.call(back_to_backtest)

    def move(mode: str, **extra: str) -> Any:
        body = {"strategy_id": "momentum_v1", "mode": mode, "reason": "drill", **extra}
        return client.post("/v1/controls/mode-transition", json=body, headers=admin.headers)

    def mode_now() -> Mode:
        [(mode,)] = seed.rows(select(Strategy.mode).where(Strategy.id == "momentum_v1"))
        return mode  # type: ignore[no-any-return]

    error = assert_error(move("LIVE", confirm="momentum_v1"), 409, "conflict", field="body.mode")
    assert "only from PAPER" in error["message"]
    assert mode_now() is Mode.BACKTEST
    assert move("PAPER").status_code == 200
    for extra in ({}, {"confirm": "momentum"}, {"confirm": "MOMENTUM_V1"}):
        assert_error(move("LIVE", **extra), 422, "validation_error", field="body.confirm")
    assert mode_now() is Mode.PAPER
    assert seed.count("audit_log") == 1  # refusals change and record nothing

    live = move("LIVE", confirm="momentum_v1")
    assert live.status_code == 200, live.text
    assert (live.json()["previous_mode"], live.json()["mode"]) == ("PAPER", "LIVE")
    assert mode_now() is Mode.LIVE
    entry = seed.rows(select(AuditEntry).order_by(AuditEntry.id.desc()))[0][0]
    assert (entry.detail["before"], entry.detail["after"], entry.detail["confirmed"]) == (
        "PAPER",
        "LIVE",
        True,
    )
    # stepping back down needs no confirmation
    assert move("BACKTEST").status_code == 200
    assert mode_now() is Mode.BACKTEST


def test_the_mode_transition_documents_its_policy(client: TestClient) -> None:
    spec = client.get("/v1/openapi.json").json()
    description = spec["paths"]["/v1/controls/mode-transition"]["post"]["description"]
    assert "only from PAPER" in description
    assert "`confirm`" in description


def test_a_mode_change_is_broadcast_to_running_execution_services_after_it_commits(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    listener = redis.Redis.from_url(redis_url)
    channel = listener.pubsub()
    channel.subscribe(KILL_SWITCH)
    assert channel.get_message(timeout=2)["type"] == "subscribe"  # type: ignore[index]
    with TestClient(create_app(make_settings(tmp_path), database_url, redis_url)) as client:
        admin = Seeder(client).user("admin", Role.ADMIN)
        response = client.put(
            "/v1/controls/kill-switch",
            json={"mode": "halt_entries", "reason": "broker outage"},
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text
    message = channel.get_message(timeout=5)
    channel.close()
    listener.close()
    assert message is not None
    event = json.loads(message["data"])
    assert (event["mode"], event["previous"], event["changed_by"], event["reason"]) == (
        "halt_entries",
        "active",
        "admin",
        "broker outage",
    )
