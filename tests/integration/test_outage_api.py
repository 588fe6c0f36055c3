"""The API through a PostgreSQL outage: 503 with Retry-After on every database route, then back.

Each test takes away a PostgreSQL of its own (the session's is shared by every other test).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from quant_api.app import create_app
from quant_db.outages import database_unreachable
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from quant_db.urls import asyncpg_dsn
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import Person, Seeder, days
from tests.integration.api.test_authorization_matrix import MATRIX, Call, _v1_routes
from tests.integration.private_servers import PrivatePostgres

# served without PostgreSQL: the contract itself, and health, which says what is down
WITHOUT_DATABASE = {("GET", "/v1/openapi.json"), ("GET", "/v1/health")}


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    yield server
    server.close()


@pytest.fixture
def client(postgres: PrivatePostgres, tmp_path: Path, redis_url: str) -> Iterator[TestClient]:
    # no sign-in cache: every route reads the users table, as most requests do
    settings = make_settings(tmp_path, auth_cache_seconds=0)
    with postgres.database() as url, TestClient(create_app(settings, url, redis_url)) as client:
        yield client


def _calls(seed: Seeder, people: dict[Role, Person]) -> dict[tuple[str, str], Call]:
    """One ready call for every route of the matrix, made while the database is up."""
    run = seed.run(
        equity=[(t, 100 + i) for i, t in enumerate(days(10))],
        report="<p>ok</p>",
        config={"universe": ["SP500"]},
    )
    ids: dict[str, Any] = {
        "run": run,
        "walk_forward_run": seed.run(run_type=RunType.WALK_FORWARD, status=RunStatus.RUNNING),
        "position": seed.position(run),
        "order": seed.order(run),
        "model": seed.model(),
        "viewer": people[Role.VIEWER].id,
        "viewer_person": people[Role.VIEWER],
        "caller": people[Role.ADMIN],  # every call below is made as the admin
    }
    return {route: entry.prepare(seed, ids) for route, entry in MATRIX.items()}


def test_every_database_route_answers_503_while_postgresql_is_down_then_serves_again(
    client: TestClient, postgres: PrivatePostgres
) -> None:
    routes = _v1_routes(client)
    assert routes == set(MATRIX), "a route without a matrix entry would escape this walk"
    seed = Seeder(client)
    # the names MATRIX signs in with
    people = {role: seed.user(f"matrix-{role.value}", role) for role in Role}
    headers = people[Role.ADMIN].headers
    calls = _calls(seed, people)

    postgres.stop()
    for (method, template), call in calls.items():
        response = client.request(method, call.path, json=call.json, headers=headers)
        if (method, template) in WITHOUT_DATABASE:
            assert response.status_code == 200, f"{method} {template}: {response.text[:300]}"
            continue
        where = f"{method} {template}"
        assert response.status_code == 503, f"{where}: {response.status_code} {response.text[:300]}"
        error = assert_error(response, 503, "unavailable")
        assert "PostgreSQL" in error["message"], where
        assert response.headers["retry-after"] == "5", where
    health = client.get("/v1/health").json()
    assert (health["status"], health["database"]["status"]) == ("degraded", "down")
    assert health["database"]["error"].startswith("PostgreSQL")
    assert health["redis"]["status"] == "ok"
    assert health["queue"] is None

    postgres.start()
    # nothing was changed by the refused calls, and every route works again without a restart
    for (method, template), call in _calls(seed, people).items():
        response = client.request(method, call.path, json=call.json, headers=headers)
        expected = MATRIX[(method, template)].ok
        assert response.status_code == expected, (
            f"{method} {template} after the restart: {response.status_code} {response.text[:300]}"
        )
    assert client.get("/v1/health").json()["status"] == "ok"


@pytest.mark.parametrize("how", ["immediate", "kill"])
def test_the_api_answers_503_when_postgresql_crashes_and_recovers_when_it_is_back(
    client: TestClient, postgres: PrivatePostgres, how: str
) -> None:
    viewer = Seeder(client).user("viewer", Role.VIEWER)
    assert client.get("/v1/strategies", headers=viewer.headers).status_code == 200
    if how == "kill":
        postgres.kill()
    else:
        postgres.stop(how)
    for _ in range(3):  # pooled connections are dead: each is found out and replaced
        response = client.get("/v1/strategies", headers=viewer.headers)
        assert_error(response, 503, "unavailable")
        assert response.headers["retry-after"] == "5"
    postgres.start()
    assert client.get("/v1/strategies", headers=viewer.headers).status_code == 200


def test_a_connection_dropped_mid_query_is_recognised_as_an_outage(
    postgres: PrivatePostgres,
) -> None:
    """The shape a server restart takes for a query in flight: what the API turns into 503."""
    postgres.start()

    async def scenario() -> BaseException:
        engine = create_async_engine(postgres.url)
        try:
            async with engine.connect() as connection:
                pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                sleeper = asyncio.create_task(connection.execute(text("SELECT pg_sleep(30)")))
                await asyncio.sleep(0.3)
                other = await asyncpg.connect(asyncpg_dsn(postgres.url))
                await other.execute("SELECT pg_terminate_backend($1)", pid)
                await other.close()
                with pytest.raises(DBAPIError) as caught:
                    await sleeper
                return caught.value
        finally:
            await engine.dispose()

    error = asyncio.run(scenario())
    assert database_unreachable(error), repr(error)
    assert not database_unreachable(ValueError("a value, not an outage"))
