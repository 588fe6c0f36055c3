"""Sign-in, token refresh and sign-out."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from quant_db.schema.identity import Role


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00]+$")
    password: str = Field(min_length=1, max_length=1024, pattern=r"^[^\x00]+$")


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class LogoutRequest(BaseModel):
    """Either the refresh token whose sign-in to end, or `all` to end every sign-in."""

    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="a refresh token of the caller: its whole family (that sign-in) is revoked",
    )
    all: bool = Field(
        default=False, description="revoke every refresh token of the caller (sign out everywhere)"
    )


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")


class UserPublic(BaseModel):
    id: int
    username: str
    role: Role
    is_active: bool
