"""The API through a Valkey outage: limited routes answer 503 meanwhile and serve again after.

The embedded Valkey here is the test's own (a state folder of its own), killed as a crash would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
from fastapi.testclient import TestClient

from quant_api.app import create_app
from quant_db.embedded import embedded_redis_url
from quant_db.schema.identity import Role
from tests.integration.api.checks import assert_error
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import Seeder


def _kill(url: str) -> None:
    client = redis.Redis.from_url(url)
    pid = int(client.info("server")["process_id"])
    client.close()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    probe = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        while time.monotonic() < deadline:
            try:
                probe.ping()
            except redis.ConnectionError:
                return
            time.sleep(0.05)
    finally:
        probe.close()
    raise AssertionError("the killed Valkey still answers")


def _next_process(state: Path) -> str:
    """What any quant command started now does: join the embedded Valkey (starting it)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from quant_db.embedded import embedded_redis_url; "
            "print(embedded_redis_url(Path(sys.argv[1])))",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_limited_routes_answer_503_while_valkey_is_dead_and_200_once_it_is_back(
    tmp_path: Path, database_url: str
) -> None:
    state = tmp_path / "state"
    url = embedded_redis_url(state)
    app = create_app(make_settings(tmp_path), database_url, url)
    with TestClient(app) as client:
        viewer = Seeder(client).user("viewer", Role.VIEWER)
        assert client.get("/v1/strategies", headers=viewer.headers).status_code == 200

        _kill(url)
        response = client.get("/v1/strategies", headers=viewer.headers)
        error = assert_error(response, 503, "unavailable")
        assert "Redis" in error["message"]
        assert response.headers["retry-after"] == "5"
        health = client.get("/v1/health").json()
        assert (health["status"], health["redis"]["status"]) == ("degraded", "down")

        assert _next_process(state) == url  # back on the port the API's clients point at
        response = client.get("/v1/strategies", headers=viewer.headers)
        assert response.status_code == 200, response.text
        assert client.get("/v1/health").json()["status"] == "ok"
