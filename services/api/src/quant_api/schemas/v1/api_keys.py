"""API keys: what is asked to create one, what a listing shows, and the one answer with the key."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from quant_db.schema.identity import Role


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=64, pattern=r"^[^\x00]+$", description="what the key is for"
    )
    role: Role = Field(description="at most the creator's own role")
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="null: the key does not expire"
    )


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the key's public start (qk_<prefix>_...), to tell keys apart")
    role: Role = Field(description="the key acts with the lower of this and its owner's role")
    owner: str = Field(description="the username the key acts for")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="to the minute; null: never used")
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(
        description="the key itself, shown this once and stored only as a hash: copy it now"
    )
