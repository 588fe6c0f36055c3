"""Where the platform keeps its state: one settings object per process, built on first use."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

WORKER_KEY_PREFIX = "quant:workers"
"""Default Redis key prefix of worker presence (quant_db.presence)."""


class StorageSettings(BaseSettings):
    """DATABASE_URL / REDIS_URL select external servers; without them the embedded ones start."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(default=None, description="SQLAlchemy URL, asyncpg driver")
    redis_url: str | None = Field(default=None, description="redis://host:port/db")
    quant_state_dir: Path = Field(default=Path(".quant"), description="embedded servers' data")
    quant_artifacts_url: str | None = Field(
        default=None,
        description="object store for model artifacts (s3://bucket/prefix, file:///dir, "
        "memory:///); unset: the artifacts folder under quant_state_dir (ADR 0049)",
    )
    quant_worker_key_prefix: str = Field(
        default=WORKER_KEY_PREFIX,
        min_length=1,
        description="Redis key prefix workers announce themselves under; the API's "
        "QUANT_WORKER_KEY_PREFIX setting is the same variable, read from the same .env",
    )


@lru_cache(maxsize=1)
def get_settings() -> StorageSettings:
    return StorageSettings()
