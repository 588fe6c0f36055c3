"""Where the IB data connection goes: TWS or Gateway host, port and its own client id."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from quant_domain import ConfigError
from quant_domain.errors import first_validation_error


class IbDataSettings(BaseSettings):
    """QUANT_IB_DATA_<FIELD>: a connection of its own, so data never shares the trading clientId."""

    model_config = SettingsConfigDict(env_prefix="QUANT_IB_DATA_", env_file=".env", extra="ignore")

    host: str = Field(default="127.0.0.1", description="TWS or IB Gateway host")
    port: int = Field(default=4002, ge=1, le=65535, description="4002 Gateway paper, 7497 TWS")
    client_id: int = Field(default=71, ge=0, description="the data connection's clientId")


@lru_cache(maxsize=1)
def get_settings() -> IbDataSettings:
    """The process's IB data settings, read from the environment (and .env) on first use."""
    try:
        return IbDataSettings()
    except ValidationError as exc:
        path, message = first_validation_error(exc, unknown=None, missing=None)
        field = path.partition(".")[0]
        raise ConfigError(message, field=f"QUANT_IB_DATA_{field.upper()}") from None
