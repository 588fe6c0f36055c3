"""`quant risk run` and `quant monitoring run` serve /metrics (parsed with prometheus-client's
parser) and beat into the heartbeats table the health page and the monitoring rules read."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from quant_db.urls import asyncpg_dsn, redacted

ROOT = Path(__file__).resolve().parents[2]
QUANT = Path(sys.executable).parent / "quant"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scrape(url: str, deadline: float) -> dict[str, list[object]]:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                body = answer.read().decode()
            families = {f.name: list(f.samples) for f in text_string_to_metric_families(body)}
            if families.get("quant_service_heartbeat_timestamp_seconds"):
                return families
        except (urllib.error.URLError, ConnectionError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no metrics at {url}")
        time.sleep(0.3)


def _beats(database_url: str, service: str) -> list[tuple[str, str | None]]:
    async def read() -> list[tuple[str, str | None]]:
        connection = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            rows = await connection.fetch(
                "SELECT service, metrics_url FROM heartbeats WHERE service = $1", service
            )
        finally:
            await connection.close()
        return [(r["service"], r["metrics_url"]) for r in rows]

    return asyncio.run(read())


@pytest.mark.parametrize("service", ["risk", "monitoring"])
def test_a_service_serves_metrics_and_beats_with_its_metrics_address(
    service: str, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    env["QUANT_STATE_DIR"] = str(tmp_path / "state")
    child = subprocess.Popen(
        [str(QUANT), service, "run", "--metrics-port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        families = _scrape(f"http://127.0.0.1:{port}/metrics", time.monotonic() + 60)
        info = families["quant_service_info"]
        assert any(getattr(s, "labels", {}).get("service") == service for s in info), info
        deadline = time.monotonic() + 30
        while not (beats := _beats(database_url, service)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert beats == [(service, f"http://127.0.0.1:{port}/metrics")], redacted(database_url)
    finally:
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=60)
    assert child.returncode == 0, out[-2000:]
