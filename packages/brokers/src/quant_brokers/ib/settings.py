"""Where the IB Gateway or TWS listens and how long the adapter waits: QUANT_IB_<FIELD>.

The socket API carries no credential (the login happens in the Gateway itself), so nothing here
is secret; the account id is not a secret either but is only ever shown, never logged with keys.
The client id is the caller's (one per runner, persisted by the execution service), so it is a
constructor argument of IbBroker, with `client_id` here only as an operator's default.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IbSettings(BaseSettings):
    """Connection and timing settings of the Interactive Brokers adapter."""

    model_config = SettingsConfigDict(env_prefix="QUANT_IB_", env_file=".env", extra="ignore")

    host: str = Field(default="127.0.0.1", description="IB Gateway / TWS host")
    port: int = Field(default=4002, ge=1, le=65535, description="4002 Gateway paper, 4001 live")
    account: str = Field(default="", description="account id; empty: the only managed account")
    client_id: int | None = Field(default=None, ge=0, description="default API client id")
    connect_timeout: float = Field(default=10.0, gt=0, description="seconds per connect attempt")
    request_timeout: float = Field(default=5.0, gt=0, description="seconds per lookup request")
    ack_timeout: float = Field(
        default=10.0, gt=0, description="seconds before an unanswered order is UNKNOWN"
    )
    commission_wait: float = Field(
        default=2.0, ge=0, description="seconds a fill waits for its commission report"
    )
    backoff_base: float = Field(default=0.5, gt=0, description="first reconnect delay ceiling")
    backoff_cap: float = Field(default=30.0, gt=0, description="largest reconnect delay")

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"
