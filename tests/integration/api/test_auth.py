"""Sign-in, refresh, token kinds and expiry, inactive users, the JWT secret, login rate limit."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.app import create_app
from quant_api.auth import TokenKind
from quant_api.settings import resolve_jwt_secret
from quant_db.schema import User
from quant_db.schema.identity import Role
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import PASSWORD, Seeder


def _login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, object]:
    response = client.post("/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_login_returns_a_bearer_pair_whose_access_token_opens_protected_routes(
    client: TestClient, seed: Seeder
) -> None:
    seed.user("ana", Role.TRADER)
    pair = _login(client, "ana")
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 15 * 60
    me = client.get("/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "ana"
    assert me.json()["role"] == "trader"
    # slowapi's counters show on success; Retry-After only comes with a 429
    assert me.headers["x-ratelimit-limit"] == "100000"
    assert "retry-after" not in me.headers


def test_a_wrong_password_and_an_unknown_user_get_the_same_401(
    client: TestClient, seed: Seeder
) -> None:
    seed.user("ana", Role.VIEWER)
    wrong = client.post("/v1/auth/login", json={"username": "ana", "password": "nope-nope"})
    unknown = client.post("/v1/auth/login", json={"username": "bob", "password": PASSWORD})
    first = assert_error(wrong, 401, "invalid_credentials")
    second = assert_error(unknown, 401, "invalid_credentials")
    assert first["message"] == second["message"]


def test_passwords_are_stored_as_argon2_hashes(client: TestClient, seed: Seeder) -> None:
    from sqlalchemy import select  # noqa: PLC0415

    seed.user("ana", Role.VIEWER)
    [(stored,)] = seed.rows(select(User.password_hash).where(User.username == "ana"))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_refresh_gives_a_new_pair_and_refuses_an_access_token(
    client: TestClient, seed: Seeder
) -> None:
    seed.user("ana", Role.VIEWER)
    pair = _login(client, "ana")
    fresh = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["access_token"] != pair["access_token"]
    headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert client.get("/v1/auth/me", headers=headers).status_code == 200
    wrong_kind = client.post("/v1/auth/refresh", json={"refresh_token": pair["access_token"]})
    assert_error(wrong_kind, 401, "invalid_token")


def test_a_refresh_token_is_refused_as_an_access_token(client: TestClient, seed: Seeder) -> None:
    seed.user("ana", Role.VIEWER)
    pair = _login(client, "ana")
    response = client.get(
        "/v1/auth/me", headers={"Authorization": f"Bearer {pair['refresh_token']}"}
    )
    error = assert_error(response, 401, "invalid_token")
    assert error["message"] == "wrong kind of token: refresh (this needs the access token)"
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_expired_access_token_is_refused(client: TestClient, seed: Seeder) -> None:
    person = seed.user("ana", Role.ADMIN)
    tokens = seed.resources.tokens
    issued = datetime.now(UTC) - tokens.access_ttl - timedelta(seconds=5)
    expired = tokens.encode(person.id, TokenKind.ACCESS, now=issued)
    assert (
        jwt.decode(expired, options={"verify_signature": False})["exp"]
        < datetime.now(UTC).timestamp()
    )
    response = client.get("/v1/strategies", headers={"Authorization": f"Bearer {expired}"})
    assert_error(response, 401, "token_expired")


def test_a_token_signed_with_another_secret_or_mangled_is_refused(
    client: TestClient, seed: Seeder
) -> None:
    person = seed.user("ana", Role.ADMIN)
    forged = jwt.encode(
        {"sub": str(person.id), "typ": "access", "iss": "quant-api", "iat": 0, "exp": 2**40},
        "another-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )
    for token in (forged, "not-a-jwt"):
        response = client.get("/v1/strategies", headers={"Authorization": f"Bearer {token}"})
        assert_error(response, 401, "invalid_token")


def test_inactive_users_can_neither_sign_in_nor_refresh_nor_use_a_token(
    client: TestClient, seed: Seeder
) -> None:
    person = seed.user("gone", Role.ADMIN, active=False)
    response = client.post("/v1/auth/login", json={"username": "gone", "password": PASSWORD})
    # the right password gets the wrong-password answer: a sign-in never confirms a password
    assert_error(response, 401, "invalid_credentials")
    refresh = seed.sign_in(person.id).refresh_token
    assert_error(
        client.post("/v1/auth/refresh", json={"refresh_token": refresh}), 401, "inactive_user"
    )
    assert_error(client.get("/v1/auth/me", headers=person.headers), 401, "inactive_user")


def test_failed_logins_are_rate_limited_with_retry_after(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path, rate_limit_login="5/minute")
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        Seeder(client).user("ana", Role.VIEWER)
        body = {"username": "ana", "password": "wrong-password"}
        statuses = [client.post("/v1/auth/login", json=body).status_code for _ in range(5)]
        assert statuses == [401] * 5
        limited = client.post("/v1/auth/login", json={"username": "ana", "password": PASSWORD})
        error = assert_error(limited, 429, "rate_limited")
        retry_after = int(limited.headers["retry-after"])
        assert 1 <= retry_after <= 60
        assert f"retry in {retry_after} s" in error["message"]
        # the counter lives in Valkey, under this app's prefix
        keys = Seeder(client).resources.redis
        found = client.portal.call(keys.keys, f"*{settings.rate_limit_prefix}*")  # type: ignore[union-attr]
        assert found


def test_run_creation_is_limited_per_user_not_globally(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path, rate_limit_runs="2/minute")
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        seed = Seeder(client)
        first, second = seed.user("trader1", Role.TRADER), seed.user("trader2", Role.TRADER)
        body = {"strategy_id": "momentum_v1"}
        codes = [
            client.post("/v1/runs", json=body, headers=first.headers).status_code for _ in range(3)
        ]
        assert codes == [202, 202, 429]
        assert client.post("/v1/runs", json=body, headers=second.headers).status_code == 202
        assert seed.count("runs") == 3


def test_a_generated_jwt_secret_is_kept_0600_and_reused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, jwt_secret=None)
    first = resolve_jwt_secret(settings)
    path = settings.state_dir / "jwt_secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(first) >= 32
    assert resolve_jwt_secret(settings) == first


def _deactivate(seed: Seeder, user_id: int) -> None:
    async def body(session: AsyncSession) -> None:
        user = await session.get(User, user_id)
        assert user is not None
        user.is_active = False

    seed.call(body)


def test_a_deactivated_user_loses_writes_at_once_and_reads_within_the_cache_window(
    client: TestClient, seed: Seeder
) -> None:
    person = seed.user("leaving", Role.TRADER)
    assert client.get("/v1/auth/me", headers=person.headers).status_code == 200
    _deactivate(seed, person.id)
    write = client.post("/v1/runs", json={"strategy_id": "momentum_v1"}, headers=person.headers)
    assert_error(write, 401, "inactive_user")
    # reads trust a token checked in the last QUANT_AUTH_CACHE_SECONDS (5 s by default)
    assert client.get("/v1/auth/me", headers=person.headers).status_code == 200


def test_without_the_user_cache_a_deactivated_user_loses_reads_at_once(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    app = create_app(
        make_settings(tmp_path, auth_cache_seconds=0),
        database_url=database_url,
        redis_url=redis_url,
    )
    with TestClient(app) as client:
        seed = Seeder(client)
        person = seed.user("leaving", Role.VIEWER)
        assert client.get("/v1/auth/me", headers=person.headers).status_code == 200
        _deactivate(seed, person.id)
        assert_error(client.get("/v1/auth/me", headers=person.headers), 401, "inactive_user")
