"""Request body limits, enforced before any route reads a byte (413 in the error envelope).

A declared Content-Length over the route's limit is refused at once, unread. A body sent without
one (chunked) is counted as it streams in and refused the moment it passes the limit, so nothing
past the limit is ever held in memory or handed to the JSON parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quant_api.errors import CODES, DESCRIPTIONS, envelope, request_id_of
from quant_api.schemas.v1.common import ErrorEnvelope
from quant_api.settings import ApiSettings

AUTH_PREFIX = "/v1/auth/"
RUNS_PATH = "/v1/runs"


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """Bytes a body may have: small for the anonymous auth routes, more for run creation (a
    walk-forward grid can be long), a default for the rest."""

    default: int
    auth: int
    runs: int

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> BodyLimits:
        return cls(
            settings.max_body_bytes, settings.max_auth_body_bytes, settings.max_run_body_bytes
        )

    def of(self, method: str, path: str) -> int:
        if path.startswith(AUTH_PREFIX):
            return self.auth
        if method == "POST" and path.rstrip("/") == RUNS_PATH:
            return self.runs
        return self.default


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its limit. An HTTPException, so the
    route's body parsing lets it through to the error handlers unchanged (FastAPI turns most
    other errors met while reading a body into a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    return f"the request body is over {limit:,} bytes, the most this route accepts"


async def body_too_large(request: Request, exc: Exception) -> JSONResponse:
    """The envelope for a body cut off while a route read it, naming the body as the field."""
    assert isinstance(exc, BodyTooLarge)
    return envelope(request_id_of(request), 413, CODES[413], str(exc.detail), field="body")


def document_body_limits(app: FastAPI) -> None:
    """Every operation that takes a body lists the 413 in its OpenAPI responses (the limit
    applies to all of them, so no route has to remember to say so)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for path_item in schema.get("paths", {}).values():
                for operation in path_item.values():
                    if isinstance(operation, dict) and "requestBody" in operation:
                        operation["responses"].setdefault("413", _ANSWER_413)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


_ANSWER_413 = {
    "description": DESCRIPTIONS[413],
    "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorEnvelope.__name__}"}}
    },
}


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses such a request before it gets here
    return None


class BodyLimitMiddleware:
    """Pure ASGI, so it sees the body before any Request object or route does."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.of(scope["method"], scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        request_id = str(scope.get("state", {}).get("request_id", ""))
        # the connection closes after the answer: the unread rest of the body is never taken in
        response = envelope(
            request_id,
            413,
            CODES[413],
            too_large(limit),
            field="body",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
