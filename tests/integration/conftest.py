"""Real PostgreSQL and Redis for integration tests: embedded by default, or QUANT_TEST_DATABASE_URL
and QUANT_TEST_REDIS_URL.

The schema is migrated once into a template database; each test gets a fresh copy of it.

Under pytest-xdist every worker is a process of its own with servers of its own: an embedded
PostgreSQL in a folder of its own, an embedded Valkey on a port of its own. On an external
PostgreSQL, shared by the workers, each worker migrates a template of its own
(`quant_test_template_gw1`; every test's database has a random name). An external Redis cannot be
shared by workers (tests/conftest.py refuses it).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from quant_db.embedded import embedded_postgres_url, embedded_redis_url
from quant_db.migrate import upgrade
from tests.integration.private_servers import server_folder

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
"""This process's pytest-xdist worker ("gw0", "gw1", ...), or "" in a run without workers."""

TEMPLATE = f"quant_test_template_{WORKER}" if WORKER else "quant_test_template"


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _admin(url: str, *statements: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def admin(url: str, *statements: str) -> None:
    asyncio.run(_admin(url, *statements))


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the maintenance database of the server under test."""
    external = os.environ.get("QUANT_TEST_DATABASE_URL")
    if external:
        return external
    # not under pytest's folders: see private_servers.py (a PANIC when another session starts)
    return embedded_postgres_url(server_folder("quant-test-state-"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real Redis-protocol server: QUANT_TEST_REDIS_URL, else an embedded Valkey."""
    external = os.environ.get("QUANT_TEST_REDIS_URL")
    if external:
        return external
    return embedded_redis_url(Path(tmp_path_factory.mktemp("valkey")))


@pytest.fixture(scope="session")
def template_url(server_url: str) -> str:
    admin(server_url, f"DROP DATABASE IF EXISTS {TEMPLATE}", f"CREATE DATABASE {TEMPLATE}")
    url = with_database(server_url, TEMPLATE)
    upgrade(url)
    return url


@pytest.fixture
def empty_database_url(server_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin(server_url, f"CREATE DATABASE {name}")
    yield with_database(server_url, name)
    admin(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database_url(server_url: str, template_url: str) -> Iterator[str]:
    """A freshly migrated database of its own for this test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin(server_url, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    yield with_database(server_url, name)
    admin(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
