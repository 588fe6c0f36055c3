"""`quant risk run` as the process `quant risk` starts: a planted drawdown in a paper session's
stored equity turns into flatten_and_halt and a critical alert within 5 s, and the latch holds
across a restart of the process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from quant_db.schema import Alert, EquityPoint, KillSwitchState, Run, Strategy, User
from quant_db.schema.identity import Role
from quant_db.schema.risk import RiskState
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_db.settings import get_settings
from tests.integration.test_cli_execution import QUANT
from tests.unit.cli.test_cli import ROOT, quant

POLICY = ROOT / "configs" / "risk" / "default.yaml"  # daily loss 2 %, drawdown 10 %, XNYS


@pytest.fixture
def platform(database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def _sql(url: str, *statements: Any) -> Any:
    async def main() -> Any:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                result = None
                for statement in statements:
                    result = await connection.execute(statement)
                return result.scalar() if result is not None and result.returns_rows else None
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _point(url: str, run_id: Any, day: int, equity: float) -> None:
    value = Decimal(str(equity))
    _sql(
        url,
        insert(EquityPoint).values(
            run_id=run_id,
            ts=datetime(2024, 1, day, 21, tzinfo=UTC),
            equity=value,
            cash=value,
            positions_value=0,
            gross_exposure=0.0,
        ),
    )


def _wait(check: Any, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError("timed out")


def _service() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [QUANT, "risk", "run", "--poll", "0.1"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(service: subprocess.Popen[str]) -> str:
    service.send_signal(signal.SIGTERM)
    _, log = service.communicate(timeout=60)
    print(log)  # shown when the test fails
    assert service.returncode == 0, log
    return log


def _mode(url: str) -> Any:
    return _sql(url, select(KillSwitchState.mode))


def test_risk_service_process_halts_on_a_drawdown_alerts_within_5s_and_stays_latched(
    platform: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = platform
    _sql(
        url,
        insert(User).values(id=7, username="ops", password_hash="x", role=Role.ADMIN),
        insert(Strategy).values(id="s1", class_path="x:Y", config={}, mode=Mode.PAPER),
    )
    code, _, err = quant(
        capsys, monkeypatch, "risk", "apply", str(POLICY), "--reason", "limits", "--user", "ops"
    )
    assert code == 0, err
    run_id = _sql(
        url,
        insert(Run)
        .values(
            strategy_id="s1",
            type=RunType.PAPER,
            status=RunStatus.RUNNING,
            config={"timeframe": "1d"},
        )
        .returning(Run.id),
    )
    service = _service()
    try:
        _point(url, run_id, 2, 100_000.0)
        _point(url, run_id, 3, 101_000.0)
        seen = select(RiskState.state["breakers"]["points"].as_integer())
        _wait(lambda: _sql(url, seen) == 2, 60)  # the process is up and evaluating
        assert _mode(url) == "active"
        _point(url, run_id, 4, 90_500.0)  # -10.4 % from the peak of 101,000
        drawdown = select(Alert.id).where(Alert.message.contains("drawdown kill switch"))
        took = _wait(lambda: _sql(url, drawdown) is not None, 5.0)
    finally:
        log = _stop(service)
    assert took < 5.0
    assert _mode(url) == "flatten_and_halt"
    alert = _sql(url, select(Alert.message).where(Alert.id == _sql(url, drawdown)))
    assert "(limit 10.00%)" in alert
    assert "drawdown -> flatten_and_halt" in log

    restarted = _service()  # a new process: the latch is in PostgreSQL
    try:
        _point(url, run_id, 5, 120_000.0)
        at = select(RiskState.state["breakers"]["at"].as_string())
        _wait(lambda: str(_sql(url, at)).startswith("2024-01-05"), 60)
    finally:
        _stop(restarted)
    assert _mode(url) == "flatten_and_halt"
    code, out, _ = quant(capsys, monkeypatch, "risk", "rearm", "--reason", "ok", "--user", "ops")
    assert code == 0
    assert "kill switch flatten_and_halt -> active" in out
