"""GET /metrics on the API: Prometheus text, latency by route template, optional bearer token."""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from quant_api.app import create_app
from tests.integration.api.conftest import make_settings

TOKEN = "metrics-scrape-token-" + "x" * 20


def _latency_routes(text: str) -> set[tuple[str, str, str]]:
    return {
        (s.labels["method"], s.labels["route"], s.labels["status"])
        for family in text_string_to_metric_families(text)
        if family.name == "quant_http_request_duration_seconds"
        for s in family.samples
        if s.name.endswith("_count")
    }


def test_metrics_endpoint_open_latency_is_labelled_by_route_template(client: TestClient) -> None:
    run_id = uuid.uuid4()
    assert client.get(f"/v1/runs/{run_id}").status_code == 401
    assert client.get("/no/such/page").status_code == 404
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    routes = _latency_routes(answer.text)
    assert ("GET", "/v1/runs/{run_id}", "401") in routes
    assert ("GET", "unmatched", "404") in routes
    client.get("/metrics")
    assert ("GET", "/metrics", "200") in _latency_routes(client.get("/metrics").text)
    assert not any(str(run_id) in route for _, route, _ in routes)
    assert "no/such" not in answer.text
    info = {
        s.labels["service"]
        for family in text_string_to_metric_families(answer.text)
        if family.name == "quant_service_info"
        for s in family.samples
    }
    assert "api" in info


def test_metrics_endpoint_never_shows_the_signing_key(client: TestClient) -> None:
    secret = client.app.state.resources.settings.jwt_secret.get_secret_value()  # type: ignore[attr-defined]
    assert secret not in client.get("/metrics").text


def test_metrics_endpoint_with_token_refuses_a_scrape_without_it(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path, metrics_token=TOKEN)
    app = create_app(settings, database_url=database_url, redis_url=redis_url)
    with TestClient(app) as client:
        bare = client.get("/metrics")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        posted = client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bare.status_code == wrong.status_code == 401
    assert bare.json()["error"]["code"] == "not_authenticated"
    assert bare.headers["WWW-Authenticate"] == "Bearer"
    assert right.status_code == 200
    assert "quant_http_request_duration_seconds" in right.text
    assert posted.status_code == 405
