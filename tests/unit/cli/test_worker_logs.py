"""`quant worker` logs JSON lines at QUANT_LOG_LEVEL, as the API does."""

from __future__ import annotations

import json

import pytest
import structlog

from quant_cli.worker_cmd import configure_json_logs
from quant_domain import ConfigError
from quant_telemetry import reset_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> object:
    yield None
    reset_logging()  # structlog and the root handler the command installed


def test_the_worker_logs_at_the_level_asked_for(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QUANT_LOG_LEVEL", "WARNING")
    configure_json_logs()
    log = structlog.get_logger("quant.worker")
    log.info("run.started", run_id="r1")
    log.warning("run.retried", run_id="r1")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["event"], line["level"]) for line in lines] == [("run.retried", "warning")]


def test_the_default_is_info(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("QUANT_LOG_LEVEL", raising=False)
    configure_json_logs()
    structlog.get_logger("quant.worker").info("run.started")
    structlog.get_logger("quant.worker").debug("noise")
    assert [json.loads(x)["event"] for x in capsys.readouterr().out.splitlines()] == ["run.started"]


def test_a_level_that_does_not_exist_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANT_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError) as caught:
        configure_json_logs()
    assert caught.value.field == "QUANT_LOG_LEVEL"
    assert "debug, info, warning or error" in caught.value.message
