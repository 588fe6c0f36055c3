"""Refresh tokens on record: rotation, reuse detection, the grace window, sign-out (ADR 0014)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.app import create_app
from quant_api.auth import TokenKind
from quant_db.schema import AuditEntry, RefreshToken, User
from quant_db.schema.identity import Role
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import PASSWORD, Seeder


@pytest.fixture
def strict(tmp_path: Path, database_url: str, redis_url: str) -> Iterator[TestClient]:
    """An app with no grace window: every second use of a refresh token is reuse."""
    settings = make_settings(tmp_path, refresh_reuse_grace_seconds=0)
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        yield client


def _login(client: TestClient, username: str) -> dict[str, Any]:
    response = client.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _refresh(client: TestClient, token: str) -> httpx.Response:
    return client.post("/v1/auth/refresh", json={"refresh_token": token})


def _rotated(client: TestClient, token: str) -> dict[str, Any]:
    response = _refresh(client, token)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def _jti(token: str) -> uuid.UUID:
    return uuid.UUID(hex=jwt.decode(token, options={"verify_signature": False})["jti"])


def _row(seed: Seeder, token: str) -> RefreshToken:
    [(row,)] = seed.rows(select(RefreshToken).where(RefreshToken.jti == _jti(token)))
    assert isinstance(row, RefreshToken)
    return row


def _rows_of(seed: Seeder, user_id: int) -> list[RefreshToken]:
    query = select(RefreshToken).where(RefreshToken.user_id == user_id)
    return [row for (row,) in seed.rows(query.order_by(RefreshToken.issued_at))]


def _audit(seed: Seeder, action: str) -> list[dict[str, Any]]:
    rows = seed.rows(select(AuditEntry.detail).where(AuditEntry.action == action))
    return [dict(detail) for (detail,) in rows]


def _set_active(seed: Seeder, user_id: int, active: bool) -> None:
    async def body(session: AsyncSession) -> None:
        user = await session.get(User, user_id)
        assert user is not None
        user.is_active = active

    seed.call(body)


def _age_exchange(seed: Seeder, token: str, seconds: float) -> None:
    """Pretend `token` was exchanged `seconds` earlier than it was."""

    async def body(session: AsyncSession) -> None:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.jti == _jti(token))
            .values(revoked_at=RefreshToken.revoked_at - timedelta(seconds=seconds))
        )

    seed.call(body)


def test_login_records_its_refresh_token_as_the_start_of_a_new_family(
    client: TestClient, seed: Seeder
) -> None:
    ana = seed.user("ana", Role.VIEWER, signed_in=False)
    first, second = _login(client, "ana"), _login(client, "ana")
    row = _row(seed, first["refresh_token"])
    claims = jwt.decode(first["refresh_token"], options={"verify_signature": False})
    assert row.user_id == ana.id
    assert row.issued_at == datetime.fromtimestamp(claims["iat"], UTC)
    assert row.expires_at == datetime.fromtimestamp(claims["exp"], UTC)
    assert row.expires_at - row.issued_at == timedelta(days=7)
    assert (row.revoked_at, row.replaced_by) == (None, None)
    assert _row(seed, second["refresh_token"]).family_id != row.family_id


def test_refresh_rotates_to_a_working_pair_and_the_old_refresh_token_then_fails(
    strict: TestClient,
) -> None:
    seed = Seeder(strict)
    seed.user("ana", Role.TRADER, signed_in=False)
    first = _login(strict, "ana")
    second = _rotated(strict, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert strict.get("/v1/auth/me", headers=_bearer(second)).json()["username"] == "ana"
    old, new = _row(seed, first["refresh_token"]), _row(seed, second["refresh_token"])
    assert old.revoked_at is not None
    assert old.replaced_by == new.jti
    assert new.family_id == old.family_id
    assert new.revoked_at is None
    # the successor rotates in turn; the first token is used up
    assert _rotated(strict, second["refresh_token"])["refresh_token"] != second["refresh_token"]
    assert_error(_refresh(strict, first["refresh_token"]), 401, "token_reused")


def test_replaying_a_rotated_token_revokes_its_family_so_the_successor_stops_working(
    strict: TestClient,
) -> None:
    seed = Seeder(strict)
    ana = seed.user("ana", Role.VIEWER, signed_in=False)
    stolen = _login(strict, "ana")["refresh_token"]
    other_sign_in = _login(strict, "ana")["refresh_token"]
    latest = _rotated(strict, _rotated(strict, stolen)["refresh_token"])["refresh_token"]
    error = assert_error(_refresh(strict, stolen), 401, "token_reused")
    assert "sign in again" in error["message"]
    assert_error(_refresh(strict, latest), 401, "token_revoked")
    family = _row(seed, stolen).family_id
    assert all(
        row.revoked_at is not None for row in _rows_of(seed, ana.id) if row.family_id == family
    )
    # another sign-in of the same user is not touched
    assert _rotated(strict, other_sign_in)["refresh_token"]
    [detail] = _audit(seed, "auth.refresh_token_reused")
    assert detail["family_id"] == str(family)
    assert detail["revoked"] == 1  # only `latest` was still live
    assert detail["username"] == "ana"


def test_within_the_grace_window_the_previous_token_gets_the_same_pair_again(
    client: TestClient, seed: Seeder
) -> None:
    ana = seed.user("ana", Role.VIEWER, signed_in=False)
    first = _login(client, "ana")
    second = _rotated(client, first["refresh_token"])
    again = _rotated(client, first["refresh_token"])
    assert again == second
    assert len(_rows_of(seed, ana.id)) == 2  # nothing new minted
    assert client.get("/v1/auth/me", headers=_bearer(again)).status_code == 200
    assert _rotated(client, again["refresh_token"])["refresh_token"] != again["refresh_token"]


def test_after_the_grace_window_the_previous_token_counts_as_reuse(
    client: TestClient, seed: Seeder
) -> None:
    seed.user("ana", Role.VIEWER, signed_in=False)
    first = _login(client, "ana")
    second = _rotated(client, first["refresh_token"])
    _age_exchange(seed, first["refresh_token"], 9)
    assert _rotated(client, first["refresh_token"]) == second  # 9 s: still inside the 10 s
    _age_exchange(seed, first["refresh_token"], 2)
    assert_error(_refresh(client, first["refresh_token"]), 401, "token_reused")
    assert_error(_refresh(client, second["refresh_token"]), 401, "token_revoked")


def test_the_grace_window_does_not_cover_a_token_whose_successor_was_already_exchanged(
    client: TestClient, seed: Seeder
) -> None:
    seed.user("ana", Role.VIEWER, signed_in=False)
    first = _login(client, "ana")
    second = _rotated(client, first["refresh_token"])
    third = _rotated(client, second["refresh_token"])
    assert_error(_refresh(client, first["refresh_token"]), 401, "token_reused")
    assert_error(_refresh(client, third["refresh_token"]), 401, "token_revoked")


def _concurrently(client: TestClient, token: str, n: int) -> list[httpx.Response]:
    """`n` refreshes of `token` in flight at once, on the app's own event loop."""

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return list(
                await asyncio.gather(
                    *(
                        http.post("/v1/auth/refresh", json={"refresh_token": token})
                        for _ in range(n)
                    )
                )
            )

    assert client.portal is not None
    return client.portal.call(burst)


def test_concurrent_refreshes_of_one_token_all_get_the_one_successor_pair(
    client: TestClient, seed: Seeder
) -> None:
    ana = seed.user("ana", Role.VIEWER, signed_in=False)
    first = _login(client, "ana")
    answers = _concurrently(client, first["refresh_token"], 4)
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    pairs = [a.json() for a in answers]
    assert all(pair == pairs[0] for pair in pairs)
    rows = _rows_of(seed, ana.id)
    assert len(rows) == 2  # one exchange, one successor
    assert _row(seed, first["refresh_token"]).replaced_by == _jti(pairs[0]["refresh_token"])
    assert _rotated(client, pairs[0]["refresh_token"])


def test_without_a_grace_window_exactly_one_concurrent_refresh_succeeds(
    strict: TestClient,
) -> None:
    seed = Seeder(strict)
    ana = seed.user("ana", Role.VIEWER, signed_in=False)
    first = _login(strict, "ana")
    answers = _concurrently(strict, first["refresh_token"], 3)
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 401, 401], [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 401} == {"token_reused"}
    # the losers count as reuse: the family, winner's successor included, is revoked
    [winner] = [a.json() for a in answers if a.status_code == 200]
    assert_error(_refresh(strict, winner["refresh_token"]), 401, "token_revoked")
    assert len(_rows_of(seed, ana.id)) == 2


def test_a_refresh_token_not_on_record_is_refused_asking_to_sign_in_again(
    client: TestClient, seed: Seeder
) -> None:
    ana = seed.user("ana", Role.VIEWER, signed_in=False)
    # what a token issued before refresh tokens were recorded looks like
    unrecorded = seed.resources.tokens.encode(ana.id, TokenKind.REFRESH)
    error = assert_error(_refresh(client, unrecorded), 401, "token_revoked")
    assert "sign in again" in error["message"]
    assert _rows_of(seed, ana.id) == []


def test_a_deactivated_user_cannot_refresh_and_every_refresh_token_of_theirs_is_revoked(
    client: TestClient, seed: Seeder
) -> None:
    ana = seed.user("ana", Role.TRADER, signed_in=False)
    laptop, phone = _login(client, "ana"), _login(client, "ana")
    _set_active(seed, ana.id, False)
    assert_error(_refresh(client, laptop["refresh_token"]), 401, "inactive_user")
    assert all(row.revoked_at is not None for row in _rows_of(seed, ana.id))
    # reactivation does not revive the sessions the deactivation ended
    _set_active(seed, ana.id, True)
    assert_error(_refresh(client, phone["refresh_token"]), 401, "token_revoked")
    assert _rotated(client, _login(client, "ana")["refresh_token"])


def test_a_role_change_shows_in_the_pair_the_next_refresh_gives(
    client: TestClient, seed: Seeder
) -> None:
    ana = seed.user("ana", Role.ADMIN, signed_in=False)
    pair = _login(client, "ana")

    async def demote(session: AsyncSession) -> None:
        user = await session.get(User, ana.id)
        assert user is not None
        user.role = Role.VIEWER

    seed.call(demote)
    fresh = _rotated(client, pair["refresh_token"])
    assert client.get("/v1/auth/me", headers=_bearer(fresh)).json()["role"] == "viewer"
    kill = client.post(
        "/v1/controls/kill-switch",
        json={"engaged": True, "reason": "drill"},
        headers=_bearer(fresh),
    )
    assert_error(kill, 403, "forbidden")


def test_issuing_a_token_deletes_that_users_expired_rows_only(
    client: TestClient, seed: Seeder
) -> None:
    ana, bob = (
        seed.user("ana", Role.VIEWER, signed_in=False),
        seed.user("bob", Role.VIEWER, signed_in=False),
    )
    long_ago = datetime.now(UTC) - timedelta(days=30)

    async def expired(session: AsyncSession) -> None:
        for user_id in (ana.id, bob.id):
            session.add(
                RefreshToken(
                    jti=uuid.uuid4(),
                    user_id=user_id,
                    family_id=uuid.uuid4(),
                    signed_in_at=long_ago,
                    issued_at=long_ago,
                    expires_at=long_ago + timedelta(days=7),
                )
            )

    seed.call(expired)
    pair = _login(client, "ana")
    assert [row.jti for row in _rows_of(seed, ana.id)] == [_jti(pair["refresh_token"])]
    assert len(_rows_of(seed, bob.id)) == 1
    seed.call(expired)
    _rotated(client, pair["refresh_token"])
    assert len(_rows_of(seed, ana.id)) == 2  # the exchanged token and its successor
    assert len(_rows_of(seed, bob.id)) == 2


def _logout(client: TestClient, pair: dict[str, Any], body: dict[str, Any]) -> httpx.Response:
    return client.post("/v1/auth/logout", json=body, headers=_bearer(pair))


def test_logout_revokes_the_sign_in_of_the_token_sent_and_is_audited(
    client: TestClient, seed: Seeder
) -> None:
    ana = seed.user("ana", Role.VIEWER, signed_in=False)
    laptop, phone = _login(client, "ana"), _login(client, "ana")
    answer = _logout(client, laptop, {"refresh_token": laptop["refresh_token"]})
    assert answer.status_code == 204, answer.text
    assert answer.content == b""
    assert_error(_refresh(client, laptop["refresh_token"]), 401, "token_revoked")
    assert _rotated(client, phone["refresh_token"])
    [detail] = _audit(seed, "auth.logout")
    assert detail == {
        "username": "ana",
        "scope": "family",
        "revoked": 1,
        "family_id": str(_row(seed, laptop["refresh_token"]).family_id),
    }
    [(target,)] = seed.rows(select(AuditEntry.target_id).where(AuditEntry.action == "auth.logout"))
    assert target == str(ana.id)


def test_logout_with_an_already_exchanged_token_still_ends_its_sign_in(
    client: TestClient, seed: Seeder
) -> None:
    seed.user("ana", Role.VIEWER, signed_in=False)
    first = _login(client, "ana")
    second = _rotated(client, first["refresh_token"])
    assert _logout(client, second, {"refresh_token": first["refresh_token"]}).status_code == 204
    assert_error(_refresh(client, second["refresh_token"]), 401, "token_revoked")
    # that sign-in's access token ended with it (ADR 0014): signing it out again from another
    # sign-in revokes nothing and is still fine
    other = _login(client, "ana")
    assert _logout(client, other, {"refresh_token": second["refresh_token"]}).status_code == 204
    assert [d["revoked"] for d in _audit(seed, "auth.logout")] == [1, 0]


def test_logout_all_revokes_every_refresh_token_of_the_caller_and_no_one_elses(
    client: TestClient, seed: Seeder
) -> None:
    seed.user("ana", Role.VIEWER, signed_in=False)
    seed.user("bob", Role.VIEWER, signed_in=False)
    laptop, phone, bobs = _login(client, "ana"), _login(client, "ana"), _login(client, "bob")
    assert _logout(client, laptop, {"all": True}).status_code == 204
    for pair in (laptop, phone):
        assert_error(_refresh(client, pair["refresh_token"]), 401, "token_revoked")
    assert _rotated(client, bobs["refresh_token"])
    [detail] = _audit(seed, "auth.logout")
    assert (detail["scope"], detail["revoked"]) == ("all", 2)


def test_logout_of_another_users_token_is_refused_naming_the_field_and_changes_nothing(
    client: TestClient, seed: Seeder
) -> None:
    seed.user("ana", Role.ADMIN, signed_in=False)
    seed.user("bob", Role.VIEWER, signed_in=False)
    anas, bobs = _login(client, "ana"), _login(client, "bob")
    answer = _logout(client, anas, {"refresh_token": bobs["refresh_token"]})
    error = assert_error(answer, 422, "validation_error", "body.refresh_token")
    assert "another user" in error["message"]
    assert _rotated(client, bobs["refresh_token"])
    assert _audit(seed, "auth.logout") == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "body.refresh_token", "all=true"),
        ({"all": False}, "body.refresh_token", "all=true"),
        ({"all": True, "refresh_token": "x"}, "body.all", "not both"),
        ({"refresh_token": "not-a-jwt"}, "body.refresh_token", "invalid refresh token"),
        ({"refresh_token": ""}, "body.refresh_token", "at least 1"),
        ({"all": "everything"}, "body.all", "boolean"),
    ],
)
def test_logout_refuses_a_bad_body_naming_the_field_and_revokes_nothing(
    client: TestClient, seed: Seeder, body: dict[str, Any], field: str, words: str
) -> None:
    ana = seed.user("ana", Role.VIEWER, signed_in=False)
    pair = _login(client, "ana")
    error = assert_error(_logout(client, pair, body), 422, "validation_error", field)
    assert words in error["message"]
    assert all(row.revoked_at is None for row in _rows_of(seed, ana.id))
    assert _audit(seed, "auth.logout") == []


def test_logout_refuses_an_access_token_in_place_of_the_refresh_token(
    client: TestClient, seed: Seeder
) -> None:
    seed.user("ana", Role.VIEWER, signed_in=False)
    pair = _login(client, "ana")
    answer = _logout(client, pair, {"refresh_token": pair["access_token"]})
    error = assert_error(answer, 422, "validation_error", "body.refresh_token")
    assert "wrong kind of token" in error["message"]
    assert _rotated(client, pair["refresh_token"])


def test_logout_is_rate_limited_per_user(tmp_path: Path, database_url: str, redis_url: str) -> None:
    settings = make_settings(tmp_path, rate_limit_logout="2/minute")
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        seed = Seeder(client)
        ana, bob = seed.user("ana", Role.VIEWER), seed.user("bob", Role.VIEWER)
        # ana's own sign-in stays; she ends three others (signing out everywhere would end hers)
        others = [seed.sign_in(ana.id).refresh_token for _ in range(3)]
        codes = [
            client.post(
                "/v1/auth/logout", json={"refresh_token": token}, headers=ana.headers
            ).status_code
            for token in others
        ]
        assert codes == [204, 204, 429]
        assert (
            client.post("/v1/auth/logout", json={"all": True}, headers=bob.headers).status_code
            == 204
        )


def _age_sign_in(seed: Seeder, token: str, days: float) -> None:
    """Pretend the sign-in `token` descends from happened `days` earlier than it did."""

    async def body(session: AsyncSession) -> None:
        family = (
            select(RefreshToken.family_id).where(RefreshToken.jti == _jti(token)).scalar_subquery()
        )
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family)
            .values(signed_in_at=RefreshToken.signed_in_at - timedelta(days=days))
        )

    seed.call(body)


def test_a_sign_in_ends_after_its_maximum_age_however_often_it_refreshes(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    settings = make_settings(tmp_path, session_max_days=30, refresh_token_days=7)
    with TestClient(create_app(settings, database_url, redis_url)) as client:
        seed = Seeder(client)
        seed.user("ana", Role.VIEWER, signed_in=False)
        first = _login(client, "ana")
        signed_in = _row(seed, first["refresh_token"]).signed_in_at
        second = _rotated(client, first["refresh_token"])
        assert _row(seed, second["refresh_token"]).signed_in_at == signed_in  # carried along

        _age_sign_in(seed, second["refresh_token"], days=25)
        third = _rotated(client, second["refresh_token"])
        row = _row(seed, third["refresh_token"])
        # 5 days of the sign-in are left, fewer than a refresh token's 7: the token gets 5
        assert row.expires_at == row.signed_in_at + timedelta(days=30)
        exp = jwt.decode(third["refresh_token"], options={"verify_signature": False})["exp"]
        assert exp == int(row.expires_at.timestamp())

        _age_sign_in(seed, third["refresh_token"], days=6)
        error = assert_error(_refresh(client, third["refresh_token"]), 401, "session_expired")
        assert "sign in again" in error["message"]
        assert _row(seed, third["refresh_token"]).revoked_at is not None
        assert _login(client, "ana")["refresh_token"]  # a new sign-in starts a new clock
