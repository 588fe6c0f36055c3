"""Where the platform keeps its state: one settings object per process, built on first use."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StorageSettings(BaseSettings):
    """DATABASE_URL / REDIS_URL select external servers; without them the embedded ones start."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(default=None, description="SQLAlchemy URL, asyncpg driver")
    redis_url: str | None = Field(default=None, description="redis://host:port/db")
    quant_state_dir: Path = Field(default=Path(".quant"), description="embedded servers' data")


@lru_cache(maxsize=1)
def get_settings() -> StorageSettings:
    return StorageSettings()
