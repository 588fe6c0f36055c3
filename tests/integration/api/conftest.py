"""An app per test on a fresh database, a session-wide embedded Valkey, and seeded users."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from quant_api.app import create_app
from quant_api.settings import ApiSettings
from tests.integration.api.seed import Seeder

STRATEGIES = Path(__file__).resolve().parents[3] / "configs" / "strategies"


def make_settings(tmp_path: Path, **overrides: Any) -> ApiSettings:
    """Cheap argon2 (TOOLCHAIN P14), a private Redis key prefix, limits out of the way."""
    values: dict[str, Any] = {
        "jwt_secret": secrets.token_urlsafe(48),
        "state_dir": tmp_path / "state",
        "strategies_dir": STRATEGIES,
        "password_time_cost": 1,
        "password_memory_cost": 8192,
        "password_parallelism": 1,
        "rate_limit_prefix": f"test-{uuid.uuid4().hex}",
        "worker_key_prefix": f"test-workers-{uuid.uuid4().hex}",
        "rate_limit_login": "1000/minute",
        "rate_limit_login_account": "1000/minute",
        "rate_limit_api_keys": "1000/minute",
        "rate_limit_runs": "1000/minute",
        "rate_limit_reads": "100000/minute",
        "rate_limit_logout": "1000/minute",
        "cors_origins": ["http://localhost:3000"],
        # a loaded test machine can take over 2 s to open a connection; down servers still
        # fail at once (connection refused)
        "health_timeout_seconds": 10.0,
    }
    values.update(overrides)
    return ApiSettings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> ApiSettings:
    return make_settings(tmp_path)


@pytest.fixture
def client(settings: ApiSettings, database_url: str, redis_url: str) -> Iterator[TestClient]:
    app = create_app(settings, database_url=database_url, redis_url=redis_url)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def seed(client: TestClient) -> Seeder:
    return Seeder(client)
