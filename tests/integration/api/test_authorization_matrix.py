"""Every /v1 route called as anonymous, viewer, trader and admin; a new route needs an entry."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.reconciliation import save_reconciliation
from quant_db.schema import ModelStage
from quant_db.schema.execution import ReconciliationState
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from tests.integration.api.seed import PASSWORD, Person, Seeder, days

CALLERS: tuple[Role | None, ...] = (None, Role.VIEWER, Role.TRADER, Role.ADMIN)
RANK = {None: -1, Role.VIEWER: 0, Role.TRADER: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Call:
    path: str
    json: dict[str, Any] | None = None


@dataclass(frozen=True)
class Entry:
    minimum: Role | None  # None: anyone, signed in or not
    ok: int
    prepare: Callable[[Seeder, dict[str, Any]], Call]


def _fixed(
    path: str, json: dict[str, Any] | None = None
) -> Callable[[Seeder, dict[str, Any]], Call]:
    return lambda _seed, _ids: Call(path, json)


def _callers_queued_run(seed: Seeder, ids: dict[str, Any]) -> Call:
    # a run may be cancelled by whoever queued it (or an admin): each caller cancels their own
    caller = ids["caller"]
    run = seed.run(status=RunStatus.QUEUED, created_by=None if caller is None else caller.id)
    return Call(f"/v1/runs/{run}/cancel")


def _callers_other_sign_in(seed: Seeder, ids: dict[str, Any]) -> Call:
    # signing out ends that sign-in's access tokens too (ADR 0014): end another one of the
    # caller's, so the caller's own token still works for the next route
    caller = ids["caller"]
    token = seed.sign_in((caller or ids["viewer_person"]).id).refresh_token
    return Call("/v1/auth/logout", {"refresh_token": token})


def _fresh_alert(seed: Seeder, _ids: dict[str, Any]) -> Call:
    return Call(f"/v1/alerts/{seed.alert()}/acknowledge")


def _fresh_alerts(seed: Seeder, _ids: dict[str, Any]) -> Call:
    return Call("/v1/alerts/acknowledge", {"ids": [seed.alert(), seed.alert()]})


def _fresh_refresh_token(seed: Seeder, ids: dict[str, Any]) -> Call:
    # each refresh token works once: every call gets one of its own
    token = seed.sign_in(ids["viewer"]).refresh_token
    return Call("/v1/auth/refresh", {"refresh_token": token})


def _callers_api_key(seed: Seeder, ids: dict[str, Any]) -> Call:
    # a key may be revoked by its owner (or an admin): each caller revokes one of their own
    owner = ids["caller"] or ids["viewer_person"]
    key_id, _key = seed.api_key(owner.id, owner.role)
    return Call(f"/v1/api-keys/{key_id}/revoke")


def _blocked_account(seed: Seeder, _ids: dict[str, Any]) -> Call:
    # only a blocked account can be resolved, once: every call gets an account of its own
    account = f"matrix-{uuid.uuid4().hex[:8]}"

    async def block(session: AsyncSession) -> None:
        difference = {"kind": "position_mismatch", "key": "SP500", "broker": "1", "ours": "0"}
        await save_reconciliation(
            session,
            account=account,
            state=ReconciliationState.BLOCKED,
            diff={"differences": [difference]},
            at=datetime.now(UTC),
        )
        await session.commit()

    seed.call(block)
    return Call(f"/v1/reconciliation/{account}/resolve", {"action": "adopt", "reason": "drill"})


def _fresh_model(stage: ModelStage, verb: str) -> Callable[[Seeder, dict[str, Any]], Call]:
    # a promotion or demotion moves the model: every call gets a model of its own
    return lambda seed, _ids: Call(f"/v1/models/{seed.model(stage=stage)}/{verb}", {"reason": "m"})


MATRIX: dict[tuple[str, str], Entry] = {
    # the contract itself is public: the dashboard generates its client types from it
    ("GET", "/v1/openapi.json"): Entry(None, 200, _fixed("/v1/openapi.json")),
    ("GET", "/v1/health"): Entry(None, 200, _fixed("/v1/health")),
    ("GET", "/v1/health/services"): Entry(Role.VIEWER, 200, _fixed("/v1/health/services")),
    ("POST", "/v1/auth/login"): Entry(
        None,
        200,
        _fixed("/v1/auth/login", {"username": "matrix-viewer", "password": PASSWORD}),
    ),
    ("POST", "/v1/auth/refresh"): Entry(None, 200, _fresh_refresh_token),
    ("POST", "/v1/auth/logout"): Entry(Role.VIEWER, 204, _callers_other_sign_in),
    ("GET", "/v1/auth/me"): Entry(Role.VIEWER, 200, _fixed("/v1/auth/me")),
    ("POST", "/v1/api-keys"): Entry(
        Role.VIEWER, 201, _fixed("/v1/api-keys", {"name": "matrix", "role": "viewer"})
    ),
    ("GET", "/v1/api-keys"): Entry(Role.VIEWER, 200, _fixed("/v1/api-keys")),
    ("POST", "/v1/api-keys/{key_id}/revoke"): Entry(Role.VIEWER, 200, _callers_api_key),
    ("GET", "/v1/metrics/summary"): Entry(Role.VIEWER, 200, _fixed("/v1/metrics/summary")),
    ("GET", "/v1/strategies"): Entry(Role.VIEWER, 200, _fixed("/v1/strategies")),
    ("GET", "/v1/strategies/{strategy_id}"): Entry(
        Role.VIEWER, 200, _fixed("/v1/strategies/momentum_v1")
    ),
    ("PATCH", "/v1/strategies/{strategy_id}"): Entry(
        Role.ADMIN, 200, _fixed("/v1/strategies/momentum_v1", {"status": "paused"})
    ),
    ("GET", "/v1/runs"): Entry(Role.VIEWER, 200, _fixed("/v1/runs")),
    ("POST", "/v1/runs"): Entry(
        Role.TRADER, 202, _fixed("/v1/runs", {"strategy_id": "momentum_v1"})
    ),
    ("GET", "/v1/runs/{run_id}"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/runs/{ids['run']}")
    ),
    ("GET", "/v1/runs/{run_id}/equity"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/runs/{ids['run']}/equity")
    ),
    ("GET", "/v1/runs/{run_id}/analytics"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/runs/{ids['run']}/analytics")
    ),
    ("GET", "/v1/runs/{run_id}/trades"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/runs/{ids['run']}/trades")
    ),
    ("GET", "/v1/runs/{run_id}/report"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/runs/{ids['run']}/report")
    ),
    ("GET", "/v1/runs/{run_id}/windows"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/runs/{ids['walk_forward_run']}/windows")
    ),
    ("GET", "/v1/runs/{run_id}/parity"): Entry(
        Role.VIEWER,
        200,
        lambda _s, ids: Call(f"/v1/runs/{ids['run']}/parity?against={ids['walk_forward_run']}"),
    ),
    ("GET", "/v1/runs/{run_id}/prices"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/runs/{ids['run']}/prices?symbol=SP500")
    ),
    ("POST", "/v1/runs/{run_id}/cancel"): Entry(Role.TRADER, 200, _callers_queued_run),
    ("PATCH", "/v1/runs/{run_id}"): Entry(
        Role.TRADER,
        200,
        lambda _s, ids: Call(f"/v1/runs/{ids['run']}", {"label": "matrix", "is_reference": True}),
    ),
    ("GET", "/v1/runs/{run_id}/trades.csv"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/runs/{ids['run']}/trades.csv")
    ),
    ("GET", "/v1/runs/{run_id}/equity.csv"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/runs/{ids['run']}/equity.csv")
    ),
    ("GET", "/v1/models"): Entry(Role.VIEWER, 200, _fixed("/v1/models")),
    ("GET", "/v1/models/{model_id}"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/models/{ids['model']}")
    ),
    # the seeded models pass the default gate (OOS Sharpe 1.2, DSR 0.97) into paper
    ("POST", "/v1/models/{model_id}/promote"): Entry(
        Role.ADMIN, 200, _fresh_model(ModelStage.CANDIDATE, "promote")
    ),
    ("POST", "/v1/models/{model_id}/demote"): Entry(
        Role.ADMIN, 200, _fresh_model(ModelStage.PAPER, "demote")
    ),
    ("GET", "/v1/symbols"): Entry(Role.VIEWER, 200, _fixed("/v1/symbols")),
    ("GET", "/v1/positions"): Entry(Role.VIEWER, 200, _fixed("/v1/positions")),
    ("GET", "/v1/reconciliation"): Entry(Role.VIEWER, 200, _fixed("/v1/reconciliation")),
    ("POST", "/v1/reconciliation/{account}/resolve"): Entry(Role.ADMIN, 200, _blocked_account),
    ("GET", "/v1/positions/{position_id}"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/positions/{ids['position']}")
    ),
    ("GET", "/v1/orders"): Entry(Role.VIEWER, 200, _fixed("/v1/orders")),
    ("GET", "/v1/orders/{order_id}"): Entry(
        Role.VIEWER, 200, lambda _s, ids: Call(f"/v1/orders/{ids['order']}")
    ),
    ("GET", "/v1/fills"): Entry(Role.VIEWER, 200, _fixed("/v1/fills")),
    ("GET", "/v1/alerts"): Entry(Role.VIEWER, 200, _fixed("/v1/alerts")),
    ("PATCH", "/v1/alerts/{alert_id}/acknowledge"): Entry(Role.TRADER, 200, _fresh_alert),
    ("GET", "/v1/alerts/counts"): Entry(Role.VIEWER, 200, _fixed("/v1/alerts/counts")),
    ("POST", "/v1/alerts/acknowledge"): Entry(Role.TRADER, 200, _fresh_alerts),
    ("GET", "/v1/controls/kill-switch"): Entry(
        Role.VIEWER, 200, _fixed("/v1/controls/kill-switch")
    ),
    ("POST", "/v1/controls/kill-switch"): Entry(
        Role.ADMIN, 200, _fixed("/v1/controls/kill-switch", {"engaged": True, "reason": "drill"})
    ),
    ("PUT", "/v1/controls/kill-switch"): Entry(
        Role.ADMIN,
        200,
        _fixed("/v1/controls/kill-switch", {"mode": "reduce_only", "reason": "drill"}),
    ),
    ("GET", "/v1/risk"): Entry(Role.VIEWER, 200, _fixed("/v1/risk")),
    ("PUT", "/v1/risk/policy"): Entry(
        Role.ADMIN, 200, _fixed("/v1/risk/policy", {"policy": {}, "reason": "drill"})
    ),
    ("POST", "/v1/risk/rearm"): Entry(
        Role.ADMIN, 200, _fixed("/v1/risk/rearm", {"reason": "drill"})
    ),
    ("POST", "/v1/controls/mode-transition"): Entry(
        Role.ADMIN,
        200,
        _fixed(
            "/v1/controls/mode-transition",
            {"strategy_id": "buy_and_hold", "mode": "PAPER", "reason": "drill"},
        ),
    ),
}


def _v1_routes(client: TestClient) -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        if route.path and route.path.startswith("/v1/"):
            routes |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    return routes


def test_every_v1_route_has_a_matrix_entry(client: TestClient) -> None:
    routes = _v1_routes(client)
    assert len(routes) >= 29
    assert routes == set(MATRIX), (
        f"missing entries: {sorted(routes - set(MATRIX))}; stale: {sorted(set(MATRIX) - routes)}"
    )


def test_every_route_answers_each_role_as_the_matrix_says(client: TestClient, seed: Seeder) -> None:
    people: dict[Role, Person] = {role: seed.user(f"matrix-{role.value}", role) for role in Role}
    run = seed.run(
        equity=[(t, 100 + i) for i, t in enumerate(days(10))],
        report="<p>ok</p>",
        config={"universe": ["SP500"]},
    )
    ids = {
        "run": run,
        "walk_forward_run": seed.run(run_type=RunType.WALK_FORWARD, status=RunStatus.RUNNING),
        "position": seed.position(run),
        "order": seed.order(run),
        "model": seed.model(),
        "viewer": people[Role.VIEWER].id,
        "viewer_person": people[Role.VIEWER],
    }
    seen: list[str] = []
    for (method, template), entry in MATRIX.items():
        for caller in CALLERS:
            ids["caller"] = people[caller] if caller is not None else None
            call = entry.prepare(seed, ids)
            headers = people[caller].headers if caller is not None else {}
            response = client.request(method, call.path, json=call.json, headers=headers)
            if entry.minimum is None or RANK[caller] >= RANK[entry.minimum]:
                expected = entry.ok
            elif caller is None:
                expected = 401
            else:
                expected = 403
            who = caller.value if caller else "anonymous"
            assert response.status_code == expected, (
                f"{method} {template} as {who}: {response.status_code} {response.text[:300]}"
            )
            seen.append(f"{method} {template} {who}")
    assert len(seen) == len(MATRIX) * len(CALLERS)
