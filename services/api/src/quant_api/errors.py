"""One error envelope for every 4xx and 5xx, whoever raised it: our code, FastAPI or Starlette."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from asyncpg import InterfaceError, PostgresError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from quant_api.schemas.v1.common import ErrorBody, ErrorEnvelope
from quant_db.outages import database_unreachable
from quant_db.outages import reason as outage_reason
from quant_domain import ConfigError

CODES: dict[int, str] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request (for example a body that is not JSON)",
    401: "Missing, expired or invalid credentials",
    403: "Signed in, but the role is too low",
    404: "No such resource",
    409: "The resource is not in a state that allows this",
    413: "The request body is larger than this route accepts (refused before it is read)",
    422: "Invalid input; `error.field` names the field at fault (`body.…`, `query.…` or `path.…`)",
    429: "Rate limit exceeded; see the Retry-After header",
    503: "A backing service (Redis, PostgreSQL) is unreachable",
}

_HEADERS: dict[int, dict[str, Any]] = {
    503: {
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer"},
            }
        }
    }
}

# where a field sits in a request; the first part of every `error.field`
REQUEST_PARTS = frozenset({"body", "query", "path", "header", "cookie"})

log = structlog.get_logger("quant_api")

INTERNAL_MESSAGE = "internal server error; quote the request id when you report it"


class ApiError(Exception):
    """An answer other than success, raised anywhere below a route and rendered as the envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, HTTPStatus(status).phrase.lower().replace(" ", "_"))
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


def not_found(kind: str, ident: object) -> ApiError:
    return ApiError(404, f"no {kind} {ident} exists")


def invalid(field: str | None, message: str) -> ApiError:
    return ApiError(422, message, field=field)


def in_request_part(exc: ApiError, part: str) -> ApiError:
    """`exc` with its field placed in a part of the request (`body`, `query`, `path`), the way
    FastAPI names the fields its own validation refuses: one form for every 422."""
    if exc.field is not None and exc.field.split(".", 1)[0] not in REQUEST_PARTS:
        exc.field = f"{part}.{exc.field}"
    return exc


def invalid_from(
    exc: ValidationError | ConfigError, prefix: str = "", renames: Mapping[str, str] | None = None
) -> ApiError:
    """A 422 naming the field at fault: a ConfigError's own, or that of pydantic's first error,
    under `prefix`, with `renames` mapping the model's top-level fields to what the client sent."""
    if isinstance(exc, ConfigError):
        return invalid(".".join(p for p in (prefix, exc.field) if p) or None, exc.message)
    err = exc.errors()[0]
    loc = [str(part) for part in err["loc"]]
    if loc and renames:
        loc[0] = renames.get(loc[0], loc[0])
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown field"
    return invalid(".".join([prefix, *loc]) if prefix else ".".join(loc) or None, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


def request_id_of(request: Request) -> str:
    """The id the request-context middleware gave this request (it runs outside every route and
    error handler, so it always has)."""
    request_id: str = request.state.request_id
    return request_id


def envelope(
    request_id: str,
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorEnvelope(
        error=ErrorBody(code=code, message=message, field=field, request_id=request_id)
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def error_responses(
    *statuses: int, non_json_route: bool = False
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the envelope for each status.

    FastAPI files a `model` under the route's own media type; a route answering HTML on
    success (`non_json_route`) still answers errors in JSON, so those name the JSON schema.
    """
    if non_json_route:
        schema = {"$ref": f"#/components/schemas/{ErrorEnvelope.__name__}"}
        return {
            s: {
                "description": DESCRIPTIONS[s],
                "content": {"application/json": {"schema": schema}},
                **_HEADERS.get(s, {}),
            }
            for s in statuses
        }
    return {
        s: {"model": ErrorEnvelope, "description": DESCRIPTIONS[s], **_HEADERS.get(s, {})}
        for s in statuses
    }


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return envelope(
        request_id_of(request),
        exc.status,
        exc.code,
        exc.message,
        field=exc.field,
        headers=exc.headers,
    )


def _allowed_methods(request: Request) -> str:
    """Every method any route serves at this path (Starlette's own 405 names one route's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    phrase = HTTPStatus(status).phrase
    message = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else ""
    if status == 404 and not message:
        message = f"no endpoint at {request.url.path}; see /v1/openapi.json"
    elif status == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        message = (
            f"{request.method} is not allowed on {request.url.path} (allowed: {headers['Allow']})"
        )
    elif status == 400 and not message:
        message = "the request could not be parsed"
    return envelope(
        request_id_of(request),
        status,
        CODES.get(status, phrase.lower().replace(" ", "_")),
        message or phrase,
        headers=headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    loc = [str(part) for part in first.get("loc", ())]
    if first.get("type") == "json_invalid":
        loc = loc[:1]
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return envelope(request_id_of(request), 422, CODES[422], message, field=".".join(loc) or None)


RETRY_AFTER_S = 5  # what a 503 asks the client to wait before trying again


def unavailable(service: str) -> ApiError:
    """503 for a backing service that is down: the client should retry, not report a bug."""
    return ApiError(
        503,
        f"{service} is unreachable; try again shortly (GET /v1/health shows what is down)",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


QUERY_CANCELED = "57014"  # statement_timeout (QUANT_STATEMENT_TIMEOUT_MS) or a cancel request


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if database_unreachable(exc):
        # one line per refused request; the outage is not a bug, so no traceback
        log.warning("database_unavailable", path=request.url.path, error=outage_reason(exc))
        return await _api_error(request, unavailable("PostgreSQL"))
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    sqlstate = str(getattr(cause, "sqlstate", "") or "")
    if sqlstate == QUERY_CANCELED:
        return envelope(
            request_id_of(request),
            503,
            CODES[503],
            "the database took too long and the query was cancelled "
            "(QUANT_STATEMENT_TIMEOUT_MS); try again shortly",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    if sqlstate.startswith("22"):  # data exception: a value PostgreSQL cannot store or compare
        reason = (str(cause).splitlines() or ["bad value"])[0][:200]
        return envelope(
            request_id_of(request),
            422,
            CODES[422],
            f"a value was refused by the database: {reason}",
        )
    raise exc


async def _redis_error(request: Request, exc: Exception) -> JSONResponse:
    # Fail closed: without the rate-limit store nothing rate-limited is served.
    log.warning(
        "redis_unavailable", path=request.url.path, error=f"{type(exc).__name__}: {exc}"[:200]
    )
    return await _api_error(request, unavailable("Redis"))


def install_error_handlers(app: FastAPI) -> None:
    """Route every error class to the envelope; unhandled ones are caught by the middleware."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # every shape a PostgreSQL outage takes; what is not an outage goes on to 422 or 500
    for error in (DBAPIError, PostgresError, InterfaceError, PoolTimeout, OSError):
        app.add_exception_handler(error, _database_error)
    app.add_exception_handler(RedisError, _redis_error)
