"""Whose request this is, by network address: the connection's peer, or the browser address the
dashboard's server names when it proves itself with the shared proxy secret (ADR 0016).

X-Forwarded-For is never read here: uvicorn applies it, and only from QUANT_TRUSTED_PROXIES
(`quant api` turns proxy headers off when that is empty), so the peer in the ASGI scope is
already the best the network layer can say.
"""

from __future__ import annotations

import hmac
import ipaddress

import structlog
from starlette.types import Scope

PROXY_SECRET_HEADER = "X-Quant-Proxy-Secret"
CLIENT_ADDRESS_HEADER = "X-Quant-Client-Address"
UNKNOWN = "unknown"

_SECRET = PROXY_SECRET_HEADER.lower().encode("latin-1")
_CLAIMED = CLIENT_ADDRESS_HEADER.lower().encode("latin-1")

log = structlog.get_logger("quant_api")


def peer_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else UNKNOWN


def client_address_of(scope: Scope, proxy_secret: str | None) -> str:
    """The address to count and log this request under.

    The dashboard's claim is believed only with the right secret; a claim that is not an IP
    address becomes "unknown" (one bucket of its own, never the dashboard's address, which every
    browser would then share).
    """
    peer = peer_of(scope)
    secret = claimed = None
    for name, value in scope.get("headers", ()):
        if name == _SECRET:
            secret = value
        elif name == _CLAIMED:
            claimed = value
    if secret is None or proxy_secret is None:
        return peer
    if not hmac.compare_digest(secret, proxy_secret.encode("utf-8")):
        # someone guessing, or a dashboard configured with another secret: say so, trust nothing
        log.warning("proxy_secret_mismatch", peer=peer)
        return peer
    try:
        return str(ipaddress.ip_address((claimed or b"").decode("latin-1").strip()))
    except ValueError:
        return UNKNOWN
