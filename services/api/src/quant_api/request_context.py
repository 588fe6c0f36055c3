"""Request ids, JSON request logs, latency by route, and the last line of defence that turns a
crash into a 500."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quant_api.client_address import client_address_of
from quant_api.errors import CODES, INTERNAL_MESSAGE, envelope
from quant_api.route_templates import route_template
from quant_telemetry.metrics import HTTP_REQUEST_DURATION

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")

log = structlog.get_logger("quant_api")


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _ACCEPTED_ID.match(text) else None
    return None


class RequestContextMiddleware:
    """Give every request an id (the client's X-Request-ID when sane), echo it, log the outcome.

    An exception nothing else handled becomes the 500 envelope here: the client sees the request
    id and a plain message, the log gets the traceback.
    """

    def __init__(self, app: ASGIApp, proxy_secret: str | None = None) -> None:
        self.app = app
        self.proxy_secret = proxy_secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        client = state["client_address"] = client_address_of(scope, self.proxy_secret)
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        outcome = {"status": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"] = message["status"]
                outcome["sent"] = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled_error", method=scope["method"], path=scope["path"])
            if outcome["sent"]:
                raise
            response = envelope(request_id, 500, CODES[500], INTERNAL_MESSAGE)
            await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            HTTP_REQUEST_DURATION.labels(
                method=scope["method"], route=route, status=str(outcome["status"])
            ).observe(elapsed)
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                route=route,
                status=outcome["status"],
                duration_ms=round(elapsed * 1000, 2),
                user=state.get("username"),
                client=client,
            )
            structlog.contextvars.reset_contextvars(**tokens)
