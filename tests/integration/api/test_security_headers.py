"""Every answer carries the security headers; token and signed-in answers are never cached."""

from __future__ import annotations

from fastapi.testclient import TestClient

from quant_db.schema.identity import Role
from tests.integration.api.seed import PASSWORD, Seeder, days

FIXED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _assert_secured(headers: object, *, cached: bool = False) -> None:
    for name, value in FIXED.items():
        assert headers[name] == value, name  # type: ignore[index]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]  # type: ignore[index]
    if not cached:
        assert headers["cache-control"] == "no-store"  # type: ignore[index]


def test_token_answers_are_never_stored(client: TestClient, seed: Seeder) -> None:
    seed.user("ana", Role.VIEWER)
    login = client.post("/v1/auth/login", json={"username": "ana", "password": PASSWORD})
    assert login.status_code == 200
    _assert_secured(login.headers)
    refresh = client.post("/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]})
    assert refresh.status_code == 200
    _assert_secured(refresh.headers)


def test_signed_in_reads_errors_and_health_carry_the_headers(
    client: TestClient, seed: Seeder
) -> None:
    person = seed.user("ana", Role.VIEWER)
    run = seed.run(equity=[(t, 100 + i) for i, t in enumerate(days(5))])
    for path in ("/v1/strategies", f"/v1/runs/{run}/equity", "/v1/auth/me"):
        response = client.get(path, headers=person.headers)
        assert response.status_code == 200, path
        _assert_secured(response.headers)
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
    for response in (client.get("/v1/health"), client.get("/v1/strategies"), client.get("/nope")):
        _assert_secured(response.headers)


def test_the_html_report_may_run_its_inline_charts_but_load_and_send_nothing(
    client: TestClient, seed: Seeder
) -> None:
    person = seed.user("ana", Role.VIEWER)
    run = seed.run(report="<script>1</script>")
    response = client.get(f"/v1/runs/{run}/report", headers=person.headers)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'unsafe-inline'" in policy
    assert "default-src 'none'" in policy
    assert "sandbox allow-scripts" in policy
    _assert_secured(response.headers)


def test_docs_assets_may_be_cached(client: TestClient) -> None:
    response = client.get("/docs/assets/swagger-ui.css")
    assert response.status_code == 200
    _assert_secured(response.headers, cached=True)
    assert response.headers["cache-control"].startswith("public")
