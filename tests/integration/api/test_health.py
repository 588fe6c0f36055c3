"""GET /v1/health tells a probe what is down; without Redis nothing rate-limited is served."""

from __future__ import annotations

import socket
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from quant_api.app import create_app
from quant_api.settings import ApiSettings
from quant_db.presence import WorkerPresence, publish, withdraw
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import Seeder

REPO = Path(__file__).resolve().parents[3]


def test_health_reports_version_git_hash_and_both_dependencies(client: TestClient) -> None:
    response = client.get("/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == "0.1.0"
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    assert body["git_hash"] == (head or "unknown")
    for name in ("database", "redis"):
        assert body[name]["status"] == "ok"
        assert body[name]["latency_ms"] >= 0
        assert body[name]["error"] is None
    assert body["workers"] == {"status": "none", "count": 0, "items": []}
    assert body["queue"] == {"queued": 0, "running": 0}


def test_health_lists_live_workers_and_counts_the_queue_without_sign_in(
    client: TestClient, seed: Seeder, settings: ApiSettings
) -> None:
    for status in (RunStatus.QUEUED, RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.COMPLETED):
        seed.run(status=status)
    running = uuid.uuid4()
    now = datetime.now(UTC)
    workers = [
        WorkerPresence(
            id=f"box-{n}:{100 + n}",
            host=f"box-{n}",
            pid=100 + n,
            started_at=now - timedelta(minutes=5),
            last_seen=now,
            concurrency=2,
            current_runs=[running] if n == 1 else [],
        )
        for n in (2, 1)
    ]
    redis = seed.resources.redis
    prefix = settings.worker_key_prefix
    assert client.portal is not None
    for worker in workers:
        client.portal.call(publish, redis, prefix, worker, 30)
    # another deployment's workers (another prefix) are not ours
    client.portal.call(publish, redis, f"{prefix}-other", workers[0], 30)

    body = client.get("/v1/health").json()
    assert body["status"] == "ok"
    assert body["queue"] == {"queued": 2, "running": 1}
    assert (body["workers"]["status"], body["workers"]["count"]) == ("ok", 2)
    first, second = body["workers"]["items"]
    assert [first["id"], second["id"]] == ["box-1:101", "box-2:102"]
    assert (first["host"], first["pid"], first["concurrency"]) == ("box-1", 101, 2)
    assert first["current_runs"] == [str(running)]
    assert second["current_runs"] == []
    assert datetime.fromisoformat(first["last_seen"]) == now

    for worker in workers:
        client.portal.call(withdraw, redis, prefix, worker.host, worker.pid)
    assert client.get("/v1/health").json()["workers"] == {
        "status": "none",
        "count": 0,
        "items": [],
    }


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_without_redis_health_is_degraded_and_limited_routes_fail_closed(
    tmp_path: Path, database_url: str
) -> None:
    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    with TestClient(create_app(make_settings(tmp_path), database_url, dead)) as client:
        viewer = Seeder(client).user("viewer", Role.VIEWER)
        health = client.get("/v1/health")
        assert health.status_code == 200
        body = health.json()
        assert (body["status"], body["database"]["status"], body["redis"]["status"]) == (
            "degraded",
            "ok",
            "down",
        )
        assert body["redis"]["error"]
        assert body["workers"] == {"status": "unknown", "count": None, "items": []}
        assert body["queue"] == {"queued": 0, "running": 0}
        response = client.get("/v1/strategies", headers=viewer.headers)
        assert_error(response, 503, "unavailable")
        assert response.headers["retry-after"] == "5"


def test_the_contract_and_its_docs_are_served(client: TestClient) -> None:
    spec = client.get("/v1/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["openapi"].startswith("3.1")
    assert "/v1/runs/{run_id}/equity" in spec.json()["paths"]
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")


def test_the_default_cors_origins_let_the_dashboard_preflight_health(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path)
    defaults = ApiSettings.model_fields["cors_origins"].default
    assert defaults == ["http://localhost:3000", "http://127.0.0.1:3000"]
    app = create_app(
        settings.model_copy(update={"cors_origins": defaults}), database_url, redis_url
    )
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, x-request-id",
    }
    with TestClient(app) as client:
        for origin in defaults:
            response = client.options("/v1/health", headers={"Origin": origin, **preflight})
            assert response.status_code == 200, response.text
            assert response.headers["access-control-allow-origin"] == origin
            assert "GET" in response.headers["access-control-allow-methods"]
            allowed_headers = response.headers["access-control-allow-headers"].lower()
            assert "authorization" in allowed_headers
            assert "x-request-id" in allowed_headers
            answer = client.get("/v1/health", headers={"Origin": origin})
            assert answer.status_code == 200
            assert answer.headers["access-control-allow-origin"] == origin
        other = client.options(
            "/v1/health", headers={"Origin": "http://localhost:3001", **preflight}
        )
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
