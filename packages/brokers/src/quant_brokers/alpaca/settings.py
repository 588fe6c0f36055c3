"""Alpaca trading settings: keys from the environment or an owner-only secrets file, endpoints."""

from __future__ import annotations

import os
import stat
from functools import lru_cache
from pathlib import Path

from alpaca.common.enums import BaseURL
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from quant_domain import ConfigError
from quant_domain.errors import first_validation_error

KEY_ID_VARIABLE = "APCA_API_KEY_ID"
SECRET_KEY_VARIABLE = "APCA_API_SECRET_KEY"
PREFIX = "QUANT_ALPACA_BROKER_"


class AlpacaBrokerSettings(BaseSettings):
    """APCA_API_KEY_ID / APCA_API_SECRET_KEY as Alpaca names them; the rest QUANT_ALPACA_BROKER_*.

    No .env file is read: keys come from the process environment or from `secrets_file`, a
    KEY=VALUE file that only its owner may read.
    """

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", hide_input_in_errors=True, populate_by_name=True
    )

    api_key_id: SecretStr | None = Field(default=None, alias="APCA_API_KEY_ID")
    api_secret_key: SecretStr | None = Field(default=None, alias="APCA_API_SECRET_KEY")
    secrets_file: Path | None = Field(
        default=None, description="KEY=VALUE file holding the two keys; mode 600 or stricter"
    )
    paper: bool = Field(default=True, description="paper account (true) or real money (false)")
    trading_url: str | None = Field(
        default=None, description="origin of the trading API, e.g. http://127.0.0.1:8080"
    )
    stream_url: str | None = Field(
        default=None, description="trade_updates websocket, e.g. ws://127.0.0.1:8080/stream"
    )

    @field_validator("trading_url")
    @classmethod
    def _bare_origin(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        if url.endswith("/v2"):
            raise ValueError(f"{value!r} ends in /v2; give the bare origin, alpaca-py appends /v2")
        return url

    @field_validator("stream_url")
    @classmethod
    def _stream(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("ws://", "wss://")):
            raise ValueError(f"{value!r} is not a ws:// or wss:// URL")
        return value.strip()

    @property
    def trading_endpoint(self) -> str:
        """Where orders go: the override, else Alpaca's paper or live API."""
        default = BaseURL.TRADING_PAPER if self.paper else BaseURL.TRADING_LIVE
        return self.trading_url or default.value

    @property
    def stream_endpoint(self) -> str:
        default = BaseURL.TRADING_STREAM_PAPER if self.paper else BaseURL.TRADING_STREAM_LIVE
        return self.stream_url or default.value

    def credentials(self) -> tuple[str, str]:
        """The key id and secret key: the environment's, else the secrets file's.

        Raises:
            ConfigError: a key is missing, or the secrets file is unreadable, not ours, or
                readable by group or others. The message never contains a key.
        """
        key_id = _plain(self.api_key_id)
        secret = _plain(self.api_secret_key)
        if (not key_id or not secret) and self.secrets_file is not None:
            stored = read_secrets_file(self.secrets_file)
            key_id = key_id or stored.get(KEY_ID_VARIABLE, "")
            secret = secret or stored.get(SECRET_KEY_VARIABLE, "")
        missing = [
            n for n, v in ((KEY_ID_VARIABLE, key_id), (SECRET_KEY_VARIABLE, secret)) if not v
        ]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} not set: export them or name an owner-only file "
                f"holding them in {PREFIX}SECRETS_FILE"
            )
        return key_id, secret


def _plain(value: SecretStr | None) -> str:
    return value.get_secret_value().strip() if value is not None else ""


def read_secrets_file(path: Path) -> dict[str, str]:
    """KEY=VALUE pairs from `path`, refused unless only its owner (us) can read it."""
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the Alpaca secrets file ({exc.strerror})") from None
    mode = stat.S_IMODE(info.st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path}: the Alpaca secrets file is open to group or others (mode {mode:03o}); "
            f"run `chmod 600 {path}`"
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise ConfigError(f"{path}: the Alpaca secrets file belongs to another user")
    pairs: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and not name.startswith("#"):
            pairs[name.strip()] = value.strip().strip("'\"")
    return pairs


@lru_cache(maxsize=1)
def get_settings() -> AlpacaBrokerSettings:
    """The process's Alpaca broker settings, read from the environment on first use."""
    try:
        return AlpacaBrokerSettings()
    except ValidationError as exc:
        path, message = first_validation_error(exc, unknown=None, missing=None)
        field = path.partition(".")[0]
        raise ConfigError(message, field=f"{PREFIX}{field.upper()}" if field else None) from None
