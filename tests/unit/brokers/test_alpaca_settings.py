"""Alpaca broker settings: where keys come from, which endpoint is used, and keys kept hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from quant_brokers.alpaca.settings import AlpacaBrokerSettings
from quant_domain import ConfigError

KEYS = "APCA_API_KEY_ID=file-key-id\nAPCA_API_SECRET_KEY='file-secret'\n"


@pytest.fixture(autouse=True)
def _no_keys_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


def secrets(tmp_path: Path, mode: int) -> Path:
    path = tmp_path / "alpaca.env"
    path.write_text(KEYS)
    path.chmod(mode)
    return path


def test_alpaca_settings_owner_only_secrets_file_supplies_the_keys(tmp_path: Path) -> None:
    settings = AlpacaBrokerSettings(secrets_file=secrets(tmp_path, 0o600))
    assert settings.credentials() == ("file-key-id", "file-secret")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_alpaca_settings_group_or_world_readable_secrets_file_is_refused(
    tmp_path: Path, mode: int
) -> None:
    path = secrets(tmp_path, mode)
    with pytest.raises(ConfigError) as caught:
        AlpacaBrokerSettings(secrets_file=path).credentials()
    message = str(caught.value)
    assert str(path) in message
    assert f"{mode:03o}" in message
    assert "chmod 600" in message
    assert "file-secret" not in message


def test_alpaca_settings_environment_keys_win_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", "env-key")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "env-secret")
    settings = AlpacaBrokerSettings(secrets_file=secrets(tmp_path, 0o600))
    assert settings.credentials() == ("env-key", "env-secret")


def test_alpaca_settings_missing_keys_name_the_variables() -> None:
    with pytest.raises(ConfigError, match="APCA_API_KEY_ID and APCA_API_SECRET_KEY not set"):
        AlpacaBrokerSettings().credentials()


def test_alpaca_settings_paper_and_live_pick_alpacas_endpoints() -> None:
    paper = AlpacaBrokerSettings()
    live = AlpacaBrokerSettings(paper=False)
    assert paper.trading_endpoint == "https://paper-api.alpaca.markets"
    assert paper.stream_endpoint == "wss://paper-api.alpaca.markets/stream"
    assert live.trading_endpoint == "https://api.alpaca.markets"
    assert live.stream_endpoint == "wss://api.alpaca.markets/stream"


def test_alpaca_settings_overrides_point_at_a_local_server() -> None:
    settings = AlpacaBrokerSettings(
        trading_url="http://127.0.0.1:9/", stream_url="ws://127.0.0.1:9/stream"
    )
    assert settings.trading_endpoint == "http://127.0.0.1:9"
    assert settings.stream_endpoint == "ws://127.0.0.1:9/stream"
    with pytest.raises(ValueError, match="bare origin"):
        AlpacaBrokerSettings(trading_url="http://127.0.0.1:9/v2")


def test_alpaca_settings_repr_hides_the_keys() -> None:
    settings = AlpacaBrokerSettings(api_key_id="visible-key?", api_secret_key="visible-secret?")
    text = repr(settings) + str(settings.model_dump())
    assert "visible-key?" not in text
    assert "visible-secret?" not in text
