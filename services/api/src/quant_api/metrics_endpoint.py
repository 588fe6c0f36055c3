"""GET /metrics: the API's Prometheus metrics, open or behind QUANT_METRICS_TOKEN (ADR 0039)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from quant_api.errors import CODES, envelope
from quant_telemetry import metrics_asgi_app

METRICS_PATH = "/metrics"


class MetricsEndpoint:
    """The telemetry ASGI app behind an optional bearer token.

    Mounted outside /v1: it is for Prometheus, not part of the versioned API or its OpenAPI. It
    carries route templates, counts and latencies, never a secret or a user's data.
    """

    def __init__(self, token: str | None) -> None:
        self._token = None if token is None else token.encode()
        self._app: Callable[..., Any] = metrics_asgi_app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(scope.get("state", {}).get("request_id", ""))
        if scope["method"] not in ("GET", "HEAD"):
            response = envelope(
                request_id, 405, CODES[405], "GET /metrics only", headers={"Allow": "GET"}
            )
            await response(scope, receive, send)
            return
        if self._token is not None and not self._authorized(scope):
            response = envelope(
                request_id,
                401,
                CODES[401],
                "/metrics needs Authorization: Bearer <QUANT_METRICS_TOKEN>",
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        assert self._token is not None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    return hmac.compare_digest(credentials.strip(), self._token)
        return False
