"""structlog configuration: JSON lines with the bound context, secrets never written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from quant_telemetry import (
    SecretRedactor,
    add_secrets,
    configure_logging,
    is_secret_name,
    log_context,
    secrets_of,
)

PLANTED = "PKZ9-planted-broker-secret-1234"
LATE = "late-loaded-webhook-secret"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    configure_logging("execution", level="info", secrets=[PLANTED], stream=stream, own_root=True)
    yield stream
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_configure_logging_json_line_carries_the_bound_context_keys(lines: io.StringIO) -> None:
    with log_context(
        run_id="r-1", strategy_id="momentum_v1", client_order_id="c-42", request_id="q-7"
    ):
        structlog.get_logger("quant.execution").info("order_sent", qty=3)
    structlog.get_logger("quant.execution").info("after")
    first, after = records(lines)
    assert first["event"] == "order_sent"
    assert first["qty"] == 3
    assert first["service"] == "execution"
    assert first["level"] == "info"
    assert {first[k] for k in ("run_id", "strategy_id", "client_order_id", "request_id")} == {
        "r-1",
        "momentum_v1",
        "c-42",
        "q-7",
    }
    assert "run_id" not in after


def test_configure_logging_stdlib_records_share_the_pipeline(lines: io.StringIO) -> None:
    with log_context(run_id="r-9"):
        logging.getLogger("quant.bus").warning("consumer %s lagging", "risk")
    (line,) = records(lines)
    assert line["event"] == "consumer risk lagging"
    assert line["run_id"] == "r-9"
    assert line["logger"] == "quant.bus"
    assert line["level"] == "warning"


def test_configure_logging_planted_secret_never_reaches_the_output(lines: io.StringIO) -> None:
    log = structlog.get_logger("quant.execution")
    log.info("connecting", api_key=PLANTED, url=f"redis://app:{PLANTED}@127.0.0.1:6379/0")
    log.info(f"broker said {PLANTED} is invalid", details={"nested": [PLANTED]})
    log.info("session", access_token="eyJhbGciOi.short.lived", password="hunter22")
    add_secrets([LATE])
    logging.getLogger("quant.monitoring").error("webhook %s refused", LATE)
    try:
        raise PermissionError(f"key {PLANTED} rejected")
    except PermissionError:
        log.exception("submit_failed")
    text = lines.getvalue()
    assert len(records(lines)) == 5
    for secret in (PLANTED, LATE, "eyJhbGciOi.short.lived", "hunter22"):
        assert secret not in text
    first = records(lines)[0]
    assert first["api_key"] == "[redacted]"
    assert first["url"] == "redis://app:[redacted]@127.0.0.1:6379/0"
    assert "PermissionError" in text


def test_configure_logging_below_level_is_dropped(lines: io.StringIO) -> None:
    structlog.get_logger("x").debug("noise")
    logging.getLogger("y").debug("noise")
    assert lines.getvalue() == ""


def test_configure_logging_host_with_its_own_root_handler_keeps_it() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    host = logging.StreamHandler(io.StringIO())
    root.addHandler(host)
    stream = io.StringIO()
    try:
        configure_logging("api", secrets=[PLANTED], stream=stream)
        assert [h for h in root.handlers if h not in handlers] == [host]
        structlog.get_logger("quant_api").info("request", token=PLANTED, note=PLANTED)
    finally:
        structlog.reset_defaults()
        root.handlers[:] = handlers
        root.setLevel(level)
    (line,) = records(stream)
    assert (line["event"], line["service"], line["token"]) == ("request", "api", "[redacted]")
    assert PLANTED not in stream.getvalue()


def test_configure_logging_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="verbose"):
        configure_logging("api", level="verbose")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_key", True),
        ("alpaca_secret_key", True),
        ("APCA_API_KEY_ID", True),
        ("jwt_secret", True),
        ("refresh_token", True),
        ("smtp_password", True),
        ("Authorization", True),
        ("dedupe_key", False),
        ("idempotency_key", False),
        ("client_order_id", False),
        ("symbol", False),
    ],
)
def test_is_secret_name_key_and_token_fields_match(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_secrets_of_settings_collects_secret_fields_only() -> None:
    class Hidden:
        def __init__(self, value: str) -> None:
            self._value = value

        def get_secret_value(self) -> str:
            return self._value

    class Settings:
        def __init__(self) -> None:
            self.jwt_secret = Hidden("s3cr3t-value")
            self.webhook_token = "plain-token-value"
            self.host = "127.0.0.1"

    assert sorted(secrets_of(Settings())) == ["plain-token-value", "s3cr3t-value"]


def test_secret_redactor_short_values_are_not_treated_as_secrets() -> None:
    redactor = SecretRedactor(["abc"])
    assert redactor(None, "info", {"event": "abc def"}) == {"event": "abc def"}
