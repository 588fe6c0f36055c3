"""API settings: one ApiSettings per process, built on first use by get_settings()."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from limits import parse_many
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from quant_db.settings import WORKER_KEY_PREFIX

MIN_SECRET_LENGTH = 32  # HS256 wants a key at least as long as its 256-bit output
SECRET_FILE = "jwt_secret"
PROXY_SECRET_FILE = "proxy_secret"  # made by `quant up` for the API and the dashboard


class ApiSettings(BaseSettings):
    """Every knob of the API process; environment variables are QUANT_<FIELD NAME>."""

    model_config = SettingsConfigDict(
        env_prefix="QUANT_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 signing key; when unset one is generated into $QUANT_STATE_DIR/jwt_secret",
    )
    state_dir: Path = Field(
        default=Path(".quant"), description="local state (shared with quant_db)"
    )
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=7, ge=1, le=90)
    refresh_reuse_grace_seconds: float = Field(
        default=10.0,
        ge=0,
        le=60,
        description="a refresh token exchanged this recently may be presented again and gets the "
        "same new pair (concurrent refreshes from one session); later it counts as reuse and "
        "revokes its family (0: never)",
    )
    session_max_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="a sign-in ends this many days after the password was given, however often "
        "its refresh token is used; then the user signs in again",
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="reads trust a checked access token or API key and its user this long (0: "
        "never); a deactivation, role change, sign-out or revoked key reaches reads within it, "
        "writes at once",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=["http://localhost:3000", "http://127.0.0.1:3000"],
        description="comma-separated origins allowed to call the API from a browser",
    )
    rate_limit_login: str = Field(
        default="10/minute",
        description="failed sign-ins per client address; a sign-in that succeeds is not counted",
    )
    rate_limit_login_account: str = Field(
        default="5/minute",
        description="failed sign-ins per username, from any address; successes are not counted",
    )
    rate_limit_api_keys: str = Field(
        default="10/minute", description="API key creation and revocation, per user"
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For the API believes (`quant api` hands them to uvicorn); empty: none, so "
        "the client address is the connection's peer",
    )
    proxy_secret: SecretStr | None = Field(
        default=None,
        description="shared with the dashboard's server: a request carrying it in "
        "X-Quant-Proxy-Secret may name its browser's address in X-Quant-Client-Address "
        "(ADR 0016); unset: that header is never believed",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="when set, GET /metrics needs `Authorization: Bearer <token>` (Prometheus' "
        "authorization.credentials); unset: /metrics is open, as the API binds 127.0.0.1 by "
        "default (ADR 0039)",
    )
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="request body limit of most routes"
    )
    max_auth_body_bytes: int = Field(
        default=16 * 1024, ge=1024, description="request body limit of /v1/auth/* (anonymous)"
    )
    max_run_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="request body limit of POST /v1/runs (walk-forward grids can be long)",
    )
    rate_limit_runs: str = Field(default="10/minute", description="run creation, per user")
    rate_limit_reads: str = Field(default="300/minute", description="all reads together, per user")
    rate_limit_logout: str = Field(default="10/minute", description="sign-outs, per user")
    rate_limit_prefix: str = Field(default="quant-api", description="Redis key prefix of counters")
    worker_key_prefix: str = Field(
        default=WORKER_KEY_PREFIX,
        min_length=1,
        description="Redis key prefix of worker presence; `quant worker` reads the same variable",
    )
    strategies_dir: Path = Field(default=Path("configs/strategies"))
    risk_dir: Path = Field(
        default=Path("configs/risk"),
        description="the risk policy files a queued backtest may name (backtest.risk_policy)",
    )
    training_dir: Path = Field(
        default=Path("configs/training"),
        description="the training configs a queued train run may name (training.config)",
    )
    model_gate_min_oos_sharpe: float = Field(
        default=0.5, description="promotion gate: least walk-forward OOS Sharpe (annualised)"
    )
    model_gate_min_dsr: float = Field(
        default=0.95, ge=0, le=1, description="promotion gate: least deflated Sharpe ratio"
    )
    model_gate_min_paper_days: float = Field(
        default=20.0, ge=0, description="promotion gate: least days in paper before live"
    )
    password_time_cost: int = Field(default=3, ge=1, le=20, description="argon2 iterations")
    password_memory_cost: int = Field(default=65_536, ge=1024, description="argon2 KiB")
    password_parallelism: int = Field(default=4, ge=1, le=64, description="argon2 lanes")
    health_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    statement_timeout_ms: int = Field(
        default=5_000,
        ge=0,
        le=600_000,
        description="PostgreSQL cancels any query of the API running longer than this (0: "
        "never), so a request its client gave up on stops costing CPU; the request answers 503 "
        "with Retry-After",
    )
    log_level: str = Field(default="info", pattern=r"^(debug|info|warning|error)$")

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        # .env.example and docker-compose.yml write INFO; `quant worker` reads it in any case too
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network such as 10.0.0.0/8"
                ) from None
        return value

    @field_validator(
        "rate_limit_login",
        "rate_limit_login_account",
        "rate_limit_runs",
        "rate_limit_reads",
        "rate_limit_logout",
        "rate_limit_api_keys",
    )
    @classmethod
    def _limit_parses(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit such as '5/minute'") from None
        return value

    @field_validator("proxy_secret", "metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # docker-compose.yml passes ${QUANT_PROXY_SECRET:-}: empty means "not configured"
        return None if value == "" else value

    @field_validator("jwt_secret", "proxy_secret", "metrics_token")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value


@lru_cache(maxsize=1)
def get_settings() -> ApiSettings:
    return ApiSettings()


def resolve_jwt_secret(settings: ApiSettings) -> str:
    """QUANT_JWT_SECRET, or the secret kept in the state folder (created 0600 on first use).

    Keeping a generated secret on disk means a restart does not sign everyone out.
    """
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    return kept_secret(settings.state_dir / SECRET_FILE)


def kept_secret(path: Path) -> str:
    """The secret in `path`, made (random, mode 0600) when the file does not exist yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"{path} holds a secret shorter than {MIN_SECRET_LENGTH} characters; "
                "delete it to generate a new one"
            ) from None
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return secret
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret
