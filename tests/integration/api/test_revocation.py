"""A sign-in that ends stops its access tokens too: after a replayed refresh token, a sign-out,
a sign-out everywhere or a deactivation, writes are refused at once and reads within the auth
cache (issue 10, defect 7; ADR 0014)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from quant_api.app import create_app
from quant_api.auth import TokenKind
from quant_db.schema.identity import Role
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import PASSWORD, Seeder

RUN = {"strategy_id": "momentum_v1"}


@pytest.fixture
def strict(tmp_path: Path, database_url: str, redis_url: str) -> Iterator[TestClient]:
    """No reuse grace (a replay is reuse at once) and no read cache (reads see it at once)."""
    settings = make_settings(tmp_path, refresh_reuse_grace_seconds=0, auth_cache_seconds=0)
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        yield client


def _login(client: TestClient, username: str) -> dict[str, Any]:
    response = client.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def _write(client: TestClient, pair: dict[str, Any]) -> httpx.Response:
    return client.post("/v1/runs", json=RUN, headers=_bearer(pair))


def _read(client: TestClient, pair: dict[str, Any]) -> httpx.Response:
    return client.get("/v1/auth/me", headers=_bearer(pair))


def _assert_ended(client: TestClient, pair: dict[str, Any]) -> None:
    assert_error(_write(client, pair), 401, "token_revoked")
    assert_error(_read(client, pair), 401, "token_revoked")


def test_a_replayed_refresh_token_ends_every_access_token_of_its_sign_in(
    strict: TestClient,
) -> None:
    Seeder(strict).user("ana", Role.TRADER)
    first = _login(strict, "ana")
    second = strict.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert _write(strict, second).status_code == 202
    replay = strict.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(replay, 401, "token_reused")
    _assert_ended(strict, first)
    _assert_ended(strict, second)


def test_logout_ends_that_sign_ins_access_tokens_and_no_other(strict: TestClient) -> None:
    Seeder(strict).user("ana", Role.TRADER)
    laptop, phone = _login(strict, "ana"), _login(strict, "ana")
    body = {"refresh_token": laptop["refresh_token"]}
    assert strict.post("/v1/auth/logout", json=body, headers=_bearer(laptop)).status_code == 204
    _assert_ended(strict, laptop)
    assert _write(strict, phone).status_code == 202
    assert _read(strict, phone).status_code == 200


def test_logout_everywhere_ends_every_access_token_of_the_user(strict: TestClient) -> None:
    seed = Seeder(strict)
    seed.user("ana", Role.TRADER)
    seed.user("bob", Role.TRADER)
    laptop, phone, bob = _login(strict, "ana"), _login(strict, "ana"), _login(strict, "bob")
    answer = strict.post("/v1/auth/logout", json={"all": True}, headers=_bearer(phone))
    assert answer.status_code == 204
    _assert_ended(strict, laptop)
    _assert_ended(strict, phone)
    assert _write(strict, bob).status_code == 202


def test_deactivation_stops_writes_at_once_and_reads_within_the_cache(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path, auth_cache_seconds=1)
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        seed = Seeder(client)
        person = seed.user("ana", Role.TRADER)
        pair = _login(client, "ana")
        assert _read(client, pair).status_code == 200  # now remembered for a second
        seed.call(lambda session: _deactivate(session, person.id))
        assert_error(_write(client, pair), 401, "inactive_user")
        time.sleep(1.1)
        assert_error(_read(client, pair), 401, "inactive_user")


async def _deactivate(session: Any, user_id: int) -> None:
    from quant_api.users import Origin, set_active  # noqa: PLC0415
    from quant_db.schema import User  # noqa: PLC0415

    user = await session.get(User, user_id)
    await set_active(session, user.username, False, origin=Origin("test", "t-1"))


def test_reads_see_a_sign_out_once_the_auth_cache_lapses(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path, auth_cache_seconds=1)
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        Seeder(client).user("ana", Role.TRADER)
        pair = _login(client, "ana")
        assert _read(client, pair).status_code == 200
        body = {"refresh_token": pair["refresh_token"]}
        assert client.post("/v1/auth/logout", json=body, headers=_bearer(pair)).status_code == 204
        assert_error(_write(client, pair), 401, "token_revoked")
        assert _read(client, pair).status_code == 200  # the cached check, at most a second old
        time.sleep(1.1)
        assert_error(_read(client, pair), 401, "token_revoked")


def test_an_access_token_that_names_no_sign_in_is_refused(
    strict: TestClient,
) -> None:
    person = Seeder(strict).user("ana", Role.TRADER)
    bare = Seeder(strict).resources.tokens.encode(person.id, TokenKind.ACCESS)
    response = strict.get("/v1/auth/me", headers={"Authorization": f"Bearer {bare}"})
    error = assert_error(response, 401, "invalid_token")
    assert "sign in again" in error["message"]
