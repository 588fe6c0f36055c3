"""quant up --demo: the platform comes up, runs the demo through the queue, paper-trades momentum_v1
on a replay, stops cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from quant_db.schema import EquityPoint, Order, Run
from quant_db.schema.runs import RunType

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _paper_traded(url: str, within: float) -> bool:
    """momentum_v1's paper session has stored equity points and at least one order."""

    async def counts() -> tuple[int, int]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as db:
                run = select(Run.id).where(Run.type == RunType.PAPER).scalar_subquery()
                points = await db.scalar(
                    select(func.count()).select_from(EquityPoint).where(EquityPoint.run_id == run)
                )
                orders = await db.scalar(
                    select(func.count()).select_from(Order).where(Order.run_id == run)
                )
                return int(points or 0), int(orders or 0)
        finally:
            await engine.dispose()

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        points, orders = asyncio.run(counts())
        if points > 0 and orders > 0:
            return True
        time.sleep(0.5)
    return False


def test_up_demo_serves_runs_and_stops_cleanly_on_ctrl_c(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUANT_STATE_DIR": str(tmp_path / "state"),
    }
    quant = Path(sys.executable).parent / "quant"
    up = subprocess.Popen(
        [str(quant), "up", "--demo", "--port", str(port), "--no-dashboard"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 180
        assert up.stdout is not None
        while time.monotonic() < deadline and sum("report file://" in line for line in lines) < 2:
            line = up.stdout.readline()
            if not line:
                break
            lines.append(line)
        text = "".join(lines)
        assert "demo login   demo / demo-password" in text, text
        assert sum("report file://" in line for line in lines) == 2, text
        assert (tmp_path / "reports" / "momentum_v1" / "report.html").stat().st_size > 1_000_000
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=10) as response:
            assert json.load(response)["database"]["status"] == "ok"
        # the demo's paper session: momentum_v1 trades the replay, a trading day a second
        assert "demo paper: momentum_v1 moved to PAPER; session" in text, text
        assert _paper_traded(database_url, within=60.0), text
    finally:
        up.send_signal(signal.SIGINT)
        out, _ = up.communicate(timeout=60)
    assert up.returncode == 0, out[-2000:]
    assert "stopped: API, workers, monitoring, the execution and risk services" in out
    leftover = subprocess.run(
        ["pgrep", "-f", f"--port {port}"], capture_output=True, text=True, check=False
    )
    assert leftover.stdout.strip() == ""
