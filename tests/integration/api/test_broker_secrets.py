"""Broker keys set in the environment never appear in an API response: every parameterless GET
route, the OpenAPI document, and the LIVE guard's refusals and acceptance, called as an admin,
are searched for the values. The search is proven able to fail on a planted leak."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient

from quant_db.schema.execution import ReconciliationState
from quant_db.schema.identity import Role
from tests.integration.api.seed import Seeder
from tests.integration.api.test_live_guard import LIMITS, live_ready, prepare

SECRETS = {
    "APCA_API_KEY_ID": "PKTESTKEYID123",
    "APCA_API_SECRET_KEY": "sEcReT-value-9876",
    "QUANT_IB_ACCOUNT": "DU-SECRET-55",
}


def leaks(bodies: Iterable[tuple[str, bytes]], secrets: Mapping[str, str]) -> list[str]:
    """`<request>: <variable>` for every body holding a secret's value (as is, or its bytes)."""
    found = []
    for where, body in bodies:
        for name, value in secrets.items():
            if value.encode() in body:
                found.append(f"{where}: {name}")
    return found


def test_leaks_finds_a_planted_secret_in_a_response_body() -> None:
    planted = [
        ("GET /v1/clean", b'{"ok": true}'),
        ("GET /v1/leaky", b'{"key": "' + SECRETS["APCA_API_SECRET_KEY"].encode() + b'"}'),
    ]
    assert leaks(planted, SECRETS) == ["GET /v1/leaky: APCA_API_SECRET_KEY"]


def test_no_api_response_holds_a_broker_key(
    client: TestClient, seed: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_ready(monkeypatch)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    admin = seed.user("admin", Role.ADMIN)
    spec = client.get("/v1/openapi.json")
    bodies: list[tuple[str, bytes]] = [("GET /v1/openapi.json", spec.content)]
    paths: dict[str, Any] = spec.json()["paths"]
    gets = [p for p, ops in paths.items() if "get" in ops and "{" not in p]
    assert len(gets) > 10  # a representative set, not a handful
    for path in gets:
        response = client.get(path, headers=admin.headers)
        bodies.append((f"GET {path} {response.status_code}", response.content))

    def move(mode: str, **extra: str) -> None:
        body = {"strategy_id": "momentum_v1", "mode": mode, "reason": "drill", **extra}
        response = client.post("/v1/controls/mode-transition", json=body, headers=admin.headers)
        bodies.append((f"POST mode-transition {mode} {response.status_code}", response.content))

    prepare(seed, risk=None, state=None)
    move("LIVE", confirm="momentum_v1")  # refused: the limits are not set
    monkeypatch.delenv("APCA_API_SECRET_KEY")
    move("LIVE", confirm="momentum_v1")  # refused: a credential is missing (named, not shown)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRETS["APCA_API_SECRET_KEY"])
    prepare(seed, risk=LIMITS, state=ReconciliationState.CLEAN)
    move("LIVE", confirm="momentum_v1")  # accepted
    statuses = [where.rsplit(" ", 1)[1] for where, _ in bodies[-3:]]
    assert statuses == ["409", "409", "200"]
    assert leaks(bodies, SECRETS) == []
