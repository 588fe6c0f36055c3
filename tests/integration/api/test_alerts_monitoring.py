"""Alert counts for the dashboard's header, acknowledging many at once, and service heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.heartbeats import beat
from quant_db.schema import Alert, AuditEntry
from quant_db.schema.identity import Role
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Seeder


def _raise(seed: Seeder, severity: str) -> int:
    async def body(session: AsyncSession) -> int:
        alert = Alert(severity=severity, source="monitoring", message=f"a {severity} alert")
        session.add(alert)
        await session.flush()
        return alert.id

    return seed.call(body)


def test_alert_counts_are_unacknowledged_ones_by_severity(client: TestClient, seed: Seeder) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    for severity in ("critical", "critical", "warning", "info", "page"):
        _raise(seed, severity)
    seed.alert("done", acknowledged=True)
    counts = client.get("/v1/alerts/counts", headers=viewer.headers).json()
    assert counts == {"critical": 2, "warning": 1, "info": 1, "other": 1, "total": 5}


def test_acknowledging_many_records_each_once_and_names_unknown_ids(
    client: TestClient, seed: Seeder
) -> None:
    trader, viewer = seed.user("trader", Role.TRADER), seed.user("viewer", Role.VIEWER)
    first, second = _raise(seed, "critical"), _raise(seed, "warning")
    done = seed.alert("done", acknowledged=True)
    assert_error(
        client.post("/v1/alerts/acknowledge", json={"ids": [first]}, headers=viewer.headers),
        403,
        "forbidden",
    )
    unknown = client.post(
        "/v1/alerts/acknowledge", json={"ids": [first, 987654]}, headers=trader.headers
    )
    assert_error(unknown, 404, "not_found")
    assert "987654" in unknown.json()["error"]["message"]
    assert_error(
        client.post("/v1/alerts/acknowledge", json={"ids": [first, first]}, headers=trader.headers),
        422,
        "validation_error",
        field="body.ids",
    )
    assert_error(
        client.post("/v1/alerts/acknowledge", json={"ids": []}, headers=trader.headers),
        422,
        "validation_error",
        field="body.ids",
    )
    response = client.post(
        "/v1/alerts/acknowledge", json={"ids": [second, first, done]}, headers=trader.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"acknowledged": sorted([first, second]), "already": [done]}
    audited = seed.rows(
        select(AuditEntry.target_id).where(AuditEntry.action == "alert.acknowledge")
    )
    assert sorted(int(t) for (t,) in audited) == sorted([first, second])
    assert client.get("/v1/alerts/counts", headers=viewer.headers).json()["total"] == 0


def test_health_services_lists_each_heartbeat_with_its_state_and_metrics_url(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("viewer", Role.VIEWER)
    assert client.get("/v1/health/services").status_code == 401

    async def body(session: AsyncSession) -> None:
        started = datetime.now(UTC)
        await beat(
            session,
            "execution",
            "h:1",
            started_at=started,
            interval_s=5,
            metrics_url="http://127.0.0.1:9101/metrics",
            detail={"broker_connected": True},
        )
        await beat(session, "worker", "h:2", started_at=started, interval_s=5)
        await session.execute(
            text(
                "UPDATE heartbeats SET last_beat = now() - interval '1 minute' WHERE service = 'worker'"
            )
        )

    seed.call(body)
    answer = client.get("/v1/health/services", headers=viewer.headers).json()
    assert answer["status"] == "degraded"
    assert [(s["service"], s["state"], s["metrics_url"]) for s in answer["items"]] == [
        ("execution", "ok", "http://127.0.0.1:9101/metrics"),
        ("worker", "missing", None),
    ]
    assert answer["items"][0]["detail"] == {"broker_connected": True}
    assert answer["items"][1]["age_s"] >= 60
