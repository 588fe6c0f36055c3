"""Failed sign-ins limited per account and per client address, whatever X-Forwarded-For says;
the dashboard's claimed address believed only with the proxy secret (issue 10, defect 5)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from quant_api.app import create_app
from quant_db.schema.identity import Role
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import PASSWORD, Seeder
from tests.integration.api.served import add_user, quant_api

SECRET = "s" * 40
WRONG = "not-the-password"


def _limited(tmp_path: Path, database_url: str, redis_url: str, **overrides: object) -> TestClient:
    values: dict[str, object] = {
        "rate_limit_login": "5/minute",
        "rate_limit_login_account": "3/minute",
        **overrides,
    }
    return TestClient(create_app(make_settings(tmp_path, **values), database_url, redis_url))


def _login(
    client: TestClient | httpx.Client,
    username: str,
    password: str,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = {"username": username, "password": password}
    return client.post("/v1/auth/login", json=body, headers=headers or {})


def test_the_login_limit_holds_through_quant_api_when_every_guess_sends_a_new_x_forwarded_for(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    add_user(tmp_path, database_url, "ana", PASSWORD, Role.VIEWER)
    env = {"QUANT_RATE_LIMIT_LOGIN": "5/minute", "QUANT_RATE_LIMIT_LOGIN_ACCOUNT": "50/minute"}
    with (
        quant_api(tmp_path, database_url, redis_url, **env) as api,
        httpx.Client(base_url=api.url, timeout=30) as client,
    ):
        spoofed = [
            _login(client, "ana", WRONG, {"X-Forwarded-For": f"10.0.{i}.{i + 1}"}) for i in range(8)
        ]
        right = _login(client, "ana", PASSWORD, {"X-Forwarded-For": "10.9.9.9"})
    assert [r.status_code for r in spoofed] == [401] * 5 + [429] * 3
    error = assert_error(right, 429, "rate_limited")
    assert int(right.headers["retry-after"]) >= 1
    assert "your address" in error["message"]


def test_quant_api_believes_x_forwarded_for_only_from_a_trusted_proxy(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    add_user(tmp_path, database_url, "ana", PASSWORD, Role.VIEWER)
    env = {
        "QUANT_RATE_LIMIT_LOGIN": "2/minute",
        "QUANT_RATE_LIMIT_LOGIN_ACCOUNT": "50/minute",
        "QUANT_TRUSTED_PROXIES": "127.0.0.1",
    }
    with (
        quant_api(tmp_path, database_url, redis_url, **env) as api,
        httpx.Client(base_url=api.url, timeout=30) as client,
    ):
        # the proxy (here: this test, from 127.0.0.1) names two different browsers
        first = [_login(client, "ana", WRONG, {"X-Forwarded-For": "10.0.0.1"}) for _ in range(3)]
        second = _login(client, "ana", WRONG, {"X-Forwarded-For": "10.0.0.2"})
    assert [r.status_code for r in first] == [401, 401, 429]
    assert second.status_code == 401


def test_one_accounts_failures_do_not_lock_out_another_account(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    with _limited(tmp_path, database_url, redis_url, rate_limit_login="100/minute") as client:
        seed = Seeder(client)
        seed.user("ana", Role.VIEWER)
        seed.user("bob", Role.VIEWER)
        ana = [_login(client, "ana", WRONG).status_code for _ in range(4)]
        bob = _login(client, "bob", PASSWORD)
        right_for_ana = _login(client, "ana", PASSWORD)
    assert ana == [401, 401, 401, 429]
    assert bob.status_code == 200, bob.text
    error = assert_error(right_for_ana, 429, "rate_limited", "body.username")
    assert "this account" in error["message"]


def test_one_address_cannot_try_many_accounts_fast(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    with _limited(tmp_path, database_url, redis_url) as client:
        statuses = [_login(client, f"user{i}", WRONG).status_code for i in range(7)]
    assert statuses == [401] * 5 + [429] * 2


def test_successful_sign_ins_are_not_what_is_limited(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    with _limited(tmp_path, database_url, redis_url) as client:
        Seeder(client).user("ana", Role.VIEWER)
        statuses = [_login(client, "ana", PASSWORD).status_code for _ in range(8)]
        # failures still count after all those successes
        failures = [_login(client, "ana", WRONG).status_code for _ in range(4)]
    assert statuses == [200] * 8
    assert failures == [401, 401, 401, 429]


def test_a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    with _limited(tmp_path, database_url, redis_url) as client:
        Seeder(client).user("ana", Role.VIEWER)

        async def burst() -> list[int]:
            transport = httpx.ASGITransport(app=client.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                answers = await asyncio.gather(*(_alogin(c) for _ in range(12)))
            return [a.status_code for a in answers]

        assert client.portal is not None
        statuses = client.portal.call(burst)
    assert sorted(statuses) == [401] * 3 + [429] * 9


async def _alogin(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/v1/auth/login", json={"username": "ana", "password": WRONG})


def test_the_dashboards_client_address_counts_only_with_the_proxy_secret(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    with _limited(
        tmp_path,
        database_url,
        redis_url,
        rate_limit_login="2/minute",
        rate_limit_login_account="50/minute",
        proxy_secret=SECRET,
    ) as client:
        Seeder(client).user("ana", Role.VIEWER)

        def via_dashboard(address: str, secret: str = SECRET) -> int:
            headers = {"X-Quant-Proxy-Secret": secret, "X-Quant-Client-Address": address}
            return _login(client, "ana", WRONG, headers).status_code

        first_browser = [via_dashboard("203.0.113.7") for _ in range(3)]
        second_browser = via_dashboard("203.0.113.8")
        # without the right secret the claim is ignored: all of these are the peer's
        forged = [via_dashboard(f"198.51.100.{i}", secret="x" * 40) for i in range(3)]
    assert first_browser == [401, 401, 429]
    assert second_browser == 401
    assert forged == [401, 401, 429]


def test_failed_sign_ins_are_logged_with_username_and_address_never_the_password(
    tmp_path: Path, database_url: str, redis_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with _limited(tmp_path, database_url, redis_url, proxy_secret=SECRET) as client:
        Seeder(client).user("ana", Role.VIEWER)
        capfd.readouterr()
        headers = {"X-Quant-Proxy-Secret": SECRET, "X-Quant-Client-Address": "203.0.113.7"}
        _login(client, "ana", "hunter2-wrong-guess", headers)
        _login(client, "ana", PASSWORD, headers)
    err = capfd.readouterr().err
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    failed = [e for e in events if e.get("event") == "login_failed"]
    assert len(failed) == 1, err
    assert failed[0]["username"] == "ana"
    assert failed[0]["client"] == "203.0.113.7"
    assert failed[0]["level"] == "warning"
    assert "hunter2-wrong-guess" not in err
    assert PASSWORD not in err


def test_a_deactivated_account_gets_the_wrong_password_answer_whatever_the_password(
    client: TestClient, seed: Seeder
) -> None:
    seed.user("gone", Role.VIEWER, active=False)
    right = _login(client, "gone", PASSWORD)
    wrong = _login(client, "gone", WRONG)
    first = assert_error(right, 401, "invalid_credentials")
    second = assert_error(wrong, 401, "invalid_credentials")
    assert first["message"] == second["message"] == "wrong username or password"
