"""Request ids, JSON request logs, and the last line of defence that turns a crash into a 500."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.tracebacks import ExceptionDictTransformer

from quant_api.client_address import client_address_of
from quant_api.errors import CODES, INTERNAL_MESSAGE, envelope

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")

log = structlog.get_logger("quant_api")


def configure_logging(level: str = "info") -> None:
    """structlog renders one JSON object per event on stderr, with the bound request context."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # tracebacks as JSON, without local variables: those hold tokens and passwords
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        # resolved per event, so a replaced sys.stderr (pytest's capture) is always the live one
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )


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
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=outcome["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                user=state.get("username"),
                client=client,
            )
            structlog.contextvars.reset_contextvars(**tokens)
