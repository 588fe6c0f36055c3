"""One envelope for every error, request ids end to end, and CORS for the allow-listed origin."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from quant_api.app import create_app
from quant_db.schema.identity import Role
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import Seeder


def test_unknown_routes_and_unknown_ids_get_the_404_envelope(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    assert_error(client.get("/v1/nowhere", headers=viewer.headers), 404, "not_found")
    missing = uuid.uuid4()
    error = assert_error(
        client.get(f"/v1/runs/{missing}", headers=viewer.headers), 404, "not_found"
    )
    assert str(missing) in error["message"]
    assert_error(client.get("/v1/strategies/nope", headers=viewer.headers), 404, "not_found")


def test_a_wrong_method_gets_405_with_every_allowed_method(client: TestClient) -> None:
    response = client.delete("/v1/runs")
    error = assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"
    assert "GET, POST" in error["message"]


def test_fastapi_validation_errors_name_the_field_path(client: TestClient, seed: Seeder) -> None:
    trader = seed.user("trader", Role.TRADER)
    response = client.post(
        "/v1/runs",
        json={"strategy_id": "momentum_v1", "start": "2020-02-31"},
        headers=trader.headers,
    )
    assert_error(response, 422, "validation_error", field="body.start")
    query = client.get("/v1/runs?page=0", headers=trader.headers)
    assert_error(query, 422, "validation_error", field="query.page")
    path = client.get("/v1/runs/not-a-uuid", headers=trader.headers)
    assert_error(path, 422, "validation_error", field="path.run_id")


def test_a_body_that_is_not_json_is_a_422_on_the_body(client: TestClient, seed: Seeder) -> None:
    trader = seed.user("trader", Role.TRADER)
    response = client.post(
        "/v1/runs",
        content=b"{not json",
        headers={**trader.headers, "Content-Type": "application/json"},
    )
    assert_error(response, 422, "validation_error", field="body")


def test_missing_credentials_get_401_and_a_low_role_gets_403(
    client: TestClient, seed: Seeder
) -> None:
    anonymous = client.get("/v1/strategies")
    assert_error(anonymous, 401, "not_authenticated")
    assert anonymous.headers["www-authenticate"] == "Bearer"
    viewer = seed.user("viewer", Role.VIEWER)
    forbidden = client.post(
        "/v1/controls/kill-switch", json={"engaged": True, "reason": "x"}, headers=viewer.headers
    )
    error = assert_error(forbidden, 403, "forbidden")
    assert "admin" in error["message"]


def test_an_unhandled_exception_is_a_500_envelope_without_a_traceback(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    app = create_app(make_settings(tmp_path), database_url, redis_url)

    @app.get("/v1/test-only/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    with TestClient(app) as client:
        response = client.get("/v1/test-only/boom", headers={"X-Request-ID": "trace-me-42"})
    error = assert_error(response, 500, "internal_error")
    assert error["request_id"] == "trace-me-42"
    assert "Traceback" not in response.text
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text


def test_a_sane_request_id_is_echoed_and_a_bad_one_replaced(client: TestClient) -> None:
    echoed = client.get("/v1/health", headers={"X-Request-ID": "abc-123.def"})
    assert echoed.headers["x-request-id"] == "abc-123.def"
    replaced = client.get("/v1/health", headers={"X-Request-ID": "bad id\twith spaces" + "x" * 80})
    assert replaced.headers["x-request-id"] != "bad id"
    assert len(replaced.headers["x-request-id"]) == 32
    generated = client.get("/v1/health")
    assert len(generated.headers["x-request-id"]) == 32
    assert generated.headers["x-request-id"] != replaced.headers["x-request-id"]


def test_error_bodies_carry_the_request_id_sent(client: TestClient) -> None:
    response = client.get("/v1/runs", headers={"X-Request-ID": "client-chosen-1"})
    assert assert_error(response, 401, "not_authenticated")["request_id"] == "client-chosen-1"


def test_cors_preflight_is_allowed_for_the_allow_listed_origin_only(client: TestClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    allowed = client.options("/v1/runs", headers={"Origin": "http://localhost:3000", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    refused = client.options("/v1/runs", headers={"Origin": "http://evil.example", **preflight})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = client.get("/v1/health", headers={"Origin": "http://localhost:3000"})
    assert simple.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


def test_each_request_is_logged_as_one_json_line_with_its_context(
    client: TestClient, seed: Seeder, capsys: pytest.CaptureFixture[str]
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    capsys.readouterr()
    client.get("/v1/runs?per_page=5", headers={**viewer.headers, "X-Request-ID": "log-me-1"})
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    [entry] = [line for line in lines if line.get("request_id") == "log-me-1"]
    assert entry["event"] == "request"
    assert (entry["method"], entry["path"], entry["status"], entry["user"]) == (
        "GET",
        "/v1/runs",
        200,
        "viewer",
    )
    assert entry["duration_ms"] >= 0
    assert entry["level"] == "info"
