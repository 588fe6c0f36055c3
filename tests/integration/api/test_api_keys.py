"""API keys for scripts: shown once, stored hashed, scoped to a role no higher than the owner's,
revoked (or the owner deactivated) at once for writes, audited (ADR 0016)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from quant_api.app import create_app
from quant_api.users import Origin, set_active, set_role
from quant_db.schema import ApiKey, AuditEntry
from quant_db.schema.identity import Role
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import Seeder

RUN = {"strategy_id": "momentum_v1"}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _create(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/v1/api-keys", json={"name": "nightly", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_key_is_shown_once_stored_as_a_hash_and_listed_by_its_prefix(
    client: TestClient, seed: Seeder
) -> None:
    ana = seed.user("ana", Role.TRADER)
    created = _create(client, ana.headers, role="viewer", expires_in_days=30)
    key = created["key"]
    assert key.startswith(f"qk_{created['prefix']}_")
    assert created["owner"] == "ana"
    assert created["role"] == "viewer"
    assert created["expires_at"] is not None
    listed = client.get("/v1/api-keys", headers=ana.headers).json()
    assert [k["prefix"] for k in listed] == [created["prefix"]]
    assert "key" not in listed[0]
    [(stored,)] = seed.rows(select(ApiKey.secret_hash))
    assert key not in stored
    assert len(stored) == 64


def test_a_key_works_as_bearer_or_x_api_key_for_reads_and_writes_of_its_role(
    client: TestClient, seed: Seeder
) -> None:
    ana = seed.user("ana", Role.TRADER)
    key = _create(client, ana.headers, role="trader")["key"]
    for headers in (_bearer(key), {"X-API-Key": key}):
        me = client.get("/v1/auth/me", headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "ana"
        assert client.post("/v1/runs", json=RUN, headers=headers).status_code == 202
    [(used,)] = seed.rows(select(ApiKey.last_used_at))
    assert used is not None


def test_a_key_never_acts_above_its_role_nor_above_its_owner(
    client: TestClient, seed: Seeder
) -> None:
    viewer = seed.user("val", Role.VIEWER)
    admin = seed.user("root", Role.ADMIN)
    refused = client.post(
        "/v1/api-keys", json={"name": "x", "role": "trader"}, headers=viewer.headers
    )
    error = assert_error(refused, 403, "forbidden", "body.role")
    assert "cannot be above its owner's" in error["message"]
    assert seed.count("api_keys") == 0
    trader_key = _create(client, admin.headers, role="trader")["key"]
    patch = client.patch(
        "/v1/strategies/momentum_v1", json={"status": "paused"}, headers=_bearer(trader_key)
    )
    assert_error(patch, 403, "forbidden")
    assert client.post("/v1/runs", json=RUN, headers=_bearer(trader_key)).status_code == 202
    # the owner demoted to viewer: the trader key can write no more
    seed.call(lambda s: set_role(s, "root", Role.VIEWER, origin=Origin("test", "t")))
    demoted = client.post("/v1/runs", json=RUN, headers=_bearer(trader_key))
    assert_error(demoted, 403, "forbidden")


def test_a_revoked_key_stops_writing_at_once_and_reading_within_the_cache(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path, auth_cache_seconds=1)
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        seed = Seeder(client)
        ana = seed.user("ana", Role.TRADER)
        created = _create(client, ana.headers, role="trader")
        key = created["key"]
        assert client.get("/v1/auth/me", headers=_bearer(key)).status_code == 200
        revoked = client.post(f"/v1/api-keys/{created['id']}/revoke", headers=ana.headers)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["revoked_at"] is not None
        assert_error(client.post("/v1/runs", json=RUN, headers=_bearer(key)), 401, "token_revoked")
        time.sleep(1.1)
        assert_error(client.get("/v1/auth/me", headers=_bearer(key)), 401, "token_revoked")
        again = client.post(f"/v1/api-keys/{created['id']}/revoke", headers=ana.headers)
        assert again.status_code == 200
        actions = [e.action for (e,) in seed.rows(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions == ["api_key.create", "api_key.revoke"]


def test_a_deactivated_owners_keys_stop_writing_at_once(client: TestClient, seed: Seeder) -> None:
    ana = seed.user("ana", Role.TRADER)
    _key_id, key = seed.api_key(ana.id, Role.TRADER)
    assert client.post("/v1/runs", json=RUN, headers=_bearer(key)).status_code == 202
    seed.call(lambda s: set_active(s, "ana", False, origin=Origin("test", "t")))
    assert_error(client.post("/v1/runs", json=RUN, headers=_bearer(key)), 401, "inactive_user")


def test_a_key_cannot_make_or_end_keys(client: TestClient, seed: Seeder) -> None:
    ana = seed.user("ana", Role.ADMIN)
    key_id, key = seed.api_key(ana.id, Role.ADMIN)
    made = client.post("/v1/api-keys", json={"name": "x", "role": "viewer"}, headers=_bearer(key))
    assert_error(made, 403, "forbidden")
    ended = client.post(f"/v1/api-keys/{key_id}/revoke", headers={"X-API-Key": key})
    assert_error(ended, 403, "forbidden")
    assert seed.count("api_keys") == 1


def test_only_the_owner_or_an_admin_revokes_a_key_and_admins_list_everyones(
    client: TestClient, seed: Seeder
) -> None:
    ana, bob = seed.user("ana", Role.TRADER), seed.user("bob", Role.TRADER)
    admin = seed.user("root", Role.ADMIN)
    key_id, _key = seed.api_key(ana.id, Role.VIEWER)
    seed.api_key(bob.id, Role.VIEWER)
    other = client.post(f"/v1/api-keys/{key_id}/revoke", headers=bob.headers)
    assert_error(other, 404, "not_found", "path.key_id")
    assert [k["owner"] for k in client.get("/v1/api-keys", headers=bob.headers).json()] == ["bob"]
    owners = {k["owner"] for k in client.get("/v1/api-keys", headers=admin.headers).json()}
    assert owners == {"ana", "bob"}
    assert client.post(f"/v1/api-keys/{key_id}/revoke", headers=admin.headers).status_code == 200


def test_unknown_expired_or_mangled_keys_are_refused(client: TestClient, seed: Seeder) -> None:
    ana = seed.user("ana", Role.TRADER)
    _id, expired = seed.api_key(
        ana.id, Role.VIEWER, expires_at=datetime.now(UTC) + timedelta(seconds=1)
    )
    _id, live = seed.api_key(ana.id, Role.VIEWER)
    time.sleep(1.1)
    assert_error(client.get("/v1/auth/me", headers=_bearer(expired)), 401, "token_expired")
    wrong_secret = live[:-4] + ("AAAA" if not live.endswith("AAAA") else "BBBB")
    for key in (wrong_secret, "qk_nope", "qk_" + "a" * 12 + "_" + "b" * 43):
        assert_error(client.get("/v1/auth/me", headers=_bearer(key)), 401, "invalid_token")


def test_a_key_cannot_be_made_with_a_bad_name_or_expiry(client: TestClient, seed: Seeder) -> None:
    ana = seed.user("ana", Role.TRADER)
    for body, field in (
        ({"name": "", "role": "viewer"}, "body.name"),
        ({"name": "x", "role": "viewer", "expires_in_days": 0}, "body.expires_in_days"),
        ({"name": "x", "role": "owner"}, "body.role"),
    ):
        response = client.post("/v1/api-keys", json=body, headers=ana.headers)
        assert_error(response, 422, "validation_error", field)
    assert seed.count("api_keys") == 0
