"""Alpaca market-data settings: API keys and endpoint choices read from the environment on use."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from quant_domain import ConfigError
from quant_domain.errors import first_validation_error

KEY_ID_VARIABLE = "APCA_API_KEY_ID"
SECRET_KEY_VARIABLE = "APCA_API_SECRET_KEY"

Feed = Literal["iex", "sip"]
Adjustment = Literal["raw", "split", "dividend", "all"]


class AlpacaDataSettings(BaseSettings):
    """APCA_API_KEY_ID / APCA_API_SECRET_KEY as Alpaca names them; the rest is QUANT_ALPACA_<FIELD>."""

    model_config = SettingsConfigDict(
        env_prefix="QUANT_ALPACA_",
        env_file=".env",
        extra="ignore",
        hide_input_in_errors=True,
    )

    api_key_id: SecretStr | None = Field(default=None, alias="APCA_API_KEY_ID")
    api_secret_key: SecretStr | None = Field(default=None, alias="APCA_API_SECRET_KEY")
    data_url: str | None = Field(
        default=None,
        description="origin of the data API, e.g. http://127.0.0.1:8080; None is alpaca-py's default",
    )
    stream_url: str | None = Field(
        default=None,
        description="origin of the live data stream, e.g. ws://127.0.0.1:8765; None is Alpaca's",
    )
    feed: Feed = Field(default="iex", description="iex (free plans) or sip (all US exchanges)")
    adjustment: Adjustment = Field(default="all", description="corporate actions applied to prices")

    @field_validator("stream_url")
    @classmethod
    def _stream_origin(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        if not url.startswith(("ws://", "wss://")) or "/v2" in url:
            raise ValueError(f"{value!r} is not a ws:// or wss:// origin (the feed path is added)")
        return url

    @field_validator("data_url")
    @classmethod
    def _bare_origin(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        if url.endswith("/v2"):
            raise ValueError(f"{value!r} ends in /v2; give the bare origin, alpaca-py appends /v2")
        return url

    def credentials(self) -> tuple[str, str]:
        """The key id and secret key.

        Raises:
            ConfigError: either is unset or blank; names the environment variables to set.
        """
        key_id = self.api_key_id.get_secret_value().strip() if self.api_key_id else ""
        secret = self.api_secret_key.get_secret_value().strip() if self.api_secret_key else ""
        missing = [
            name
            for name, value in ((KEY_ID_VARIABLE, key_id), (SECRET_KEY_VARIABLE, secret))
            if not value
        ]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} not set: export your Alpaca API key id and secret key "
                f"({KEY_ID_VARIABLE}, {SECRET_KEY_VARIABLE}) or put them in .env"
            )
        return key_id, secret


@lru_cache(maxsize=1)
def get_settings() -> AlpacaDataSettings:
    """The process's Alpaca settings, read from the environment (and .env) on first use."""
    try:
        return AlpacaDataSettings()
    except ValidationError as exc:
        path, message = first_validation_error(exc, unknown=None, missing=None)
        raise ConfigError(message, field=_variable(path.partition(".")[0])) from None


def _variable(field: str) -> str:
    """The environment variable that sets `field`."""
    alias = AlpacaDataSettings.model_fields[field].alias if field else None
    if isinstance(alias, str):
        return alias
    return f"QUANT_ALPACA_{field.upper()}"
