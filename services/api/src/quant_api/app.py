"""The app factory: `uvicorn quant_api.app:create_app --factory`. Nothing happens at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from slowapi.errors import RateLimitExceeded
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from quant_api import docs_pages
from quant_api.api_keys import API_KEY_HEADER
from quant_api.body_limits import (
    BodyLimitMiddleware,
    BodyLimits,
    BodyTooLarge,
    body_too_large,
    document_body_limits,
)
from quant_api.errors import install_error_handlers
from quant_api.metrics_endpoint import METRICS_PATH, MetricsEndpoint
from quant_api.rate_limits import rate_limit_exceeded
from quant_api.request_context import REQUEST_ID_HEADER, RequestContextMiddleware
from quant_api.resources import open_resources, package_version
from quant_api.routers.v1 import api_router
from quant_api.routers.v1.controls import ENFORCEMENT_NOTE
from quant_api.security_headers import SecurityHeadersMiddleware
from quant_api.settings import ApiSettings, get_settings
from quant_telemetry import configure_logging, mark_started, release_process, secrets_of

DESCRIPTION = f"""
The versioned HTTP API of the quant platform: strategies, runs (backtests and walk-forwards,
executed by the backtest worker), their results, the market data they read, positions, orders,
alerts and operator controls.

* **Auth**: `POST /v1/auth/login` returns a bearer access token (15 min) and a refresh token
  (7 days). `POST /v1/auth/refresh` rotates the refresh token (each works once; a replayed one
  revokes its whole sign-in); `POST /v1/auth/logout` revokes one sign-in or all of them, and the
  access tokens of an ended sign-in stop working too. Every route except health, login and
  refresh needs the access token or an API key (`/v1/api-keys`: long-lived, revocable, a role no
  higher than its owner's), as `Authorization: Bearer` or `X-API-Key`.
* **Roles**: viewer (read) < trader (create runs and cancel their own, acknowledge alerts) <
  admin (cancel any run, change strategies, kill switch, mode transitions).
* **Errors**: every 4xx/5xx is `{{"error": {{"code", "message", "field", "request_id"}}}}`.
* **Rate limits**: failed sign-ins per username and per client address; run creation, API
  keys, logout and reads per user; 429 carries `Retry-After`. Request bodies are limited before
  they are read (413).
* **Controls**: the kill switch and mode transitions. {ENFORCEMENT_NOTE}
"""

TAGS = [
    {"name": "health", "description": "Liveness and dependency status (no sign-in)."},
    {"name": "auth", "description": "Sign in, refresh tokens (rotated) and sign out."},
    {
        "name": "api keys",
        "description": "Long-lived, revocable keys for scripts, each with a role no higher than "
        "its owner's.",
    },
    {"name": "metrics", "description": "Performance computed from stored runs."},
    {
        "name": "strategies",
        "description": "Strategies synced from the YAML files of configs/strategies and of the "
        "user's strategies folder (QUANT_STRATEGIES_PATH), again whenever a file there changes.",
    },
    {"name": "runs", "description": "Backtest and walk-forward runs queued for the worker."},
    {"name": "market data", "description": "The bars ingested into the database."},
    {"name": "positions", "description": "Holdings kept by paper and live sessions."},
    {"name": "orders", "description": "Orders of every run."},
    {"name": "alerts", "description": "Alerts and their acknowledgement."},
    {
        "name": "controls",
        "description": f"Kill switch and mode transitions. {ENFORCEMENT_NOTE}",
    },
]


def create_app(
    settings: ApiSettings | None = None,
    database_url: str | None = None,
    redis_url: str | None = None,
) -> FastAPI:
    """Build the API. Servers are reached (and embedded ones started) only at startup.

    Startup migrates the database, syncs the strategies folder into the strategies table and
    connects to Redis; `database_url` / `redis_url` override DATABASE_URL / REDIS_URL.
    """
    config = settings or get_settings()
    configure_logging("api", config.log_level, secrets=secrets_of(config))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = await open_resources(config, database_url, redis_url)
        app.state.resources = resources
        app.state.rate_limits = resources.limits
        mark_started("api", package_version())
        try:
            yield
        finally:
            await resources.close()
            release_process()  # a stopped worker's live gauges leave the multiprocess total

    app = FastAPI(
        title="Quant platform API",
        version=package_version(),
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url=None,  # served by docs_pages, from installed assets (no CDN)
        redoc_url=None,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_exception_handler(RateLimitExceeded, rate_limit_exceeded)
    app.add_exception_handler(BodyTooLarge, body_too_large)
    app.include_router(api_router)
    app.include_router(docs_pages.router)
    token = None if config.metrics_token is None else config.metrics_token.get_secret_value()
    # an ASGI app as a plain Starlette route: outside /v1 and the OpenAPI, any method reaches
    # it so it answers 405 itself
    app.router.routes.append(Route(METRICS_PATH, MetricsEndpoint(token), include_in_schema=False))
    document_body_limits(app)
    # added first = innermost: bodies are limited before any route reads them; the request
    # context (outside it) has named the request by then, so the 413 carries its id
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.from_settings(config))
    secret = None if config.proxy_secret is None else config.proxy_secret.get_secret_value()
    app.add_middleware(RequestContextMiddleware, proxy_secret=secret)
    # outside the request context, so its own 500s get the headers too
    app.add_middleware(SecurityHeadersMiddleware)
    # added last = outermost: CORS headers also reach the 500s the request context produces
    app.add_middleware(
        CORSMiddleware,
        allow_origins=config.cors_origins,
        allow_methods=["GET", "POST", "PATCH", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER, API_KEY_HEADER],
        expose_headers=[
            REQUEST_ID_HEADER,
            "Location",
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ],
        max_age=600,
    )
    return app
