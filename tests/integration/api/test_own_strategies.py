"""A strategy in the user's strategies folder runs through the API and a `quant worker` process
with no environment variable set, and new or edited files are picked up without a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from quant_api.app import create_app
from quant_db.schema.identity import Role
from quant_strategy.strategy_folder import ENV_VAR
from tests.integration.api.conftest import make_settings
from tests.integration.api.seed import Person, Seeder

ROOT = Path(__file__).resolve().parents[3]
QUANT = Path(sys.executable).parent / "quant"
NEVER_TRADES = """
    def generate_signals(self, state: MarketState) -> list[Signal]:
        return []  # edited: this version never trades
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory: a project whose strategies/ holds the shipped Breakout example."""
    folder = tmp_path / "project" / "strategies"
    folder.mkdir(parents=True)
    for name in ("breakout.py", "breakout_v1.yaml"):
        (folder / name).write_text((ROOT / "strategies" / name).read_text())
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(folder.parent)
    return folder.parent


@pytest.fixture
def client(
    project: Path, tmp_path: Path, database_url: str, redis_url: str
) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path), database_url, redis_url)) as client:
        yield client


@pytest.fixture
def worker(project: Path, database_url: str, redis_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """`quant worker` started in the project as `quant up` starts it: no strategies setting."""
    env = {k: v for k, v in os.environ.items() if k not in (ENV_VAR, "PYTHONPATH")}
    env |= {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUANT_WORKER_KEY_PREFIX": f"test-workers-{uuid.uuid4().hex}",
    }
    process = subprocess.Popen(
        [str(QUANT), "worker"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _finished(client: TestClient, person: Person, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        run = client.get(f"/v1/runs/{run_id}", headers=person.headers).json()
        if run["status"] in ("completed", "failed", "cancelled"):
            return dict(run)
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not finish: {run}")


def _start(client: TestClient, person: Person, strategy_id: str, **body: Any) -> str:
    response = client.post(
        "/v1/runs",
        json={"strategy_id": strategy_id, "start": "2010-01-04", "end": "2014-12-31", **body},
        headers=person.headers,
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_a_folder_strategy_runs_through_the_api_and_a_worker_that_reloads_edits(
    client: TestClient, project: Path, worker: subprocess.Popen[bytes]
) -> None:
    trader = Seeder(client).user("trader", Role.TRADER)
    listed = client.get("/v1/strategies", headers=trader.headers).json()
    assert "breakout_v1" in [s["id"] for s in listed]
    detail = client.get("/v1/strategies/breakout_v1", headers=trader.headers).json()
    assert detail["class_path"] == "breakout:Breakout"
    assert detail["params_schema"]["properties"]["window"]["minimum"] == 2

    first = _finished(client, trader, _start(client, trader, "breakout_v1"))
    assert first["status"] == "completed", first["error"]
    assert first["metrics"]["num_trades"] > 5

    # the same running worker, after the module is edited: the next run uses the new code
    module = project / "strategies" / "breakout.py"
    text = module.read_text()
    edited = text[: text.index("    def generate_signals")] + NEVER_TRADES
    module.write_text(edited)
    second = _finished(client, trader, _start(client, trader, "breakout_v1"))
    assert second["status"] == "completed", second["error"]
    assert second["metrics"]["num_trades"] == 0
    assert worker.poll() is None


def test_a_strategy_added_or_edited_while_the_api_runs_is_seen_without_a_restart(
    client: TestClient, project: Path
) -> None:
    trader = Seeder(client).user("trader", Role.TRADER)
    folder = project / "strategies"
    (folder / "breakout_v2.yaml").write_text(
        (folder / "breakout_v1.yaml")
        .read_text()
        .replace("id: breakout_v1", "id: breakout_v2")
        .replace("{window: 20}", "{window: 50}")
    )
    ids = [s["id"] for s in client.get("/v1/strategies", headers=trader.headers).json()]
    assert "breakout_v2" in ids
    _start(client, trader, "breakout_v2")  # known to run creation at once

    module = folder / "breakout.py"
    module.write_text(module.read_text().replace("ge=2,", "ge=5,"))
    detail = client.get("/v1/strategies/breakout_v2", headers=trader.headers).json()
    assert detail["params_schema"]["properties"]["window"]["minimum"] == 5
    refused = client.post(
        "/v1/runs",
        json={"strategy_id": "breakout_v2", "params": {"window": 3}},
        headers=trader.headers,
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "body.params.window"


def test_a_config_whose_module_is_broken_is_skipped_until_the_module_is_fixed(
    client: TestClient, project: Path
) -> None:
    trader = Seeder(client).user("trader", Role.TRADER)
    module = project / "strategies" / "breakout.py"
    good = module.read_text()
    (project / "strategies" / "broken_v1.yaml").write_text(
        "id: broken_v1\nclass: broken:Breakout\nuniverse: [SP500]\n"
    )
    (project / "strategies" / "broken.py").write_text(good.replace("class Breakout(", "class (", 1))
    ids = [s["id"] for s in client.get("/v1/strategies", headers=trader.headers).json()]
    assert "broken_v1" not in ids
    (project / "strategies" / "broken.py").write_text(good)
    ids = [s["id"] for s in client.get("/v1/strategies", headers=trader.headers).json()]
    assert "broken_v1" in ids
