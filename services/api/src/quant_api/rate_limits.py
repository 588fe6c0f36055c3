"""Rate limits: slowapi's Limiter on Redis, one per app, applied to endpoints by `rate_limited`.

slowapi's `limiter.limit` decorator binds an endpoint to one Limiter when it is applied, but the
Limiter needs the Redis URL, which only exists once the app starts (create_app is a factory and
settings are never read at import). So `rate_limited` marks the endpoint and, on its first call in
an app, applies that app's slowapi decorator and keeps the result. slowapi then does what it
always does: count in Redis, raise RateLimitExceeded, add X-RateLimit-* headers to `response`.
"""

from __future__ import annotations

import functools
import inspect
import math
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar, cast

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded

from quant_api.errors import CODES, envelope, request_id_of
from quant_api.settings import ApiSettings

P = ParamSpec("P")
R = TypeVar("R")
Endpoint = Callable[P, Awaitable[R]]


class LimitScope(StrEnum):
    RUNS = "runs.create"  # per user
    READS = "reads"  # per user, every GET route together
    LOGOUT = "auth.logout"  # per user
    API_KEYS = "api_keys.write"  # per user
    # sign-ins are limited by their failures, per account and per address: login_limits


def client_ip(request: Request) -> str:
    """The request's client address (client_address: the peer, or the dashboard's word for it)."""
    address = getattr(request.state, "client_address", None)
    if address is None:
        address = request.client.host if request.client else "unknown"
    return f"ip:{address}"


def user_or_ip(request: Request) -> str:
    """The signed-in user (set by the CurrentUser dependency, which runs first), else the IP."""
    user_id = getattr(request.state, "user_id", None)
    return f"user:{user_id}" if user_id is not None else client_ip(request)


# fail fast when Redis is away (the request then gets a 503, not a hang)
_REDIS_OPTIONS: dict[str, Any] = {"socket_timeout": 2, "socket_connect_timeout": 2}

_KEYS: dict[LimitScope, Callable[[Request], str]] = {
    LimitScope.RUNS: user_or_ip,
    LimitScope.READS: user_or_ip,
    LimitScope.LOGOUT: user_or_ip,
    LimitScope.API_KEYS: user_or_ip,
}


class RateLimits:
    """The app's slowapi Limiter (counters in Redis) and the endpoints it has wrapped."""

    def __init__(self, settings: ApiSettings, storage_uri: str) -> None:
        self.limiter = Limiter(
            key_func=client_ip,
            storage_uri=storage_uri,
            storage_options=_REDIS_OPTIONS,
            headers_enabled=True,
            key_prefix=settings.rate_limit_prefix,
            strategy="fixed-window",
        )
        self._values = {
            LimitScope.RUNS: settings.rate_limit_runs,
            LimitScope.READS: settings.rate_limit_reads,
            LimitScope.LOGOUT: settings.rate_limit_logout,
            LimitScope.API_KEYS: settings.rate_limit_api_keys,
        }
        self._wrapped: dict[tuple[Callable[..., Any], LimitScope], Callable[..., Any]] = {}

    def guard(self, endpoint: Endpoint[P, R], scope: LimitScope) -> Endpoint[P, R]:
        key = (endpoint, scope)
        if key not in self._wrapped:
            decorate = self.limiter.shared_limit(
                self._values[scope], scope=scope.value, key_func=_KEYS[scope]
            )
            self._wrapped[key] = decorate(endpoint)
        return cast("Endpoint[P, R]", self._wrapped[key])

    def retry_after(self, request: Request) -> int:
        """Seconds until the limit this request hit resets (slowapi records which one it was)."""
        hit = getattr(request.state, "view_rate_limit", None)
        if hit is None:
            return 60
        item, keys = hit
        reset_at, _remaining = self.limiter.limiter.get_window_stats(item, *keys)
        return max(1, math.ceil(reset_at - time.time()))


def rate_limited(scope: LimitScope) -> Callable[[Endpoint[P, R]], Endpoint[P, R]]:
    """Count calls of the endpoint against `scope`; it must take `request` and `response`."""

    def decorate(endpoint: Endpoint[P, R]) -> Endpoint[P, R]:
        names = inspect.signature(endpoint).parameters
        if "request" not in names or "response" not in names:
            raise TypeError(
                f"{endpoint.__qualname__}: a rate-limited endpoint takes `request: Request` "
                "and `response: Response` (slowapi reads the first and writes headers on the second)"
            )

        @functools.wraps(endpoint)
        async def limited(*args: P.args, **kwargs: P.kwargs) -> R:
            request = kwargs["request"]
            assert isinstance(request, Request)
            limits: RateLimits = request.app.state.rate_limits
            result = await limits.guard(endpoint, scope)(*args, **kwargs)
            # slowapi stamps Retry-After on every answer; it only means something on the 429
            for answer in (kwargs.get("response"), result):
                if isinstance(answer, Response) and "retry-after" in answer.headers:
                    del answer.headers["retry-after"]
            return result

        return limited

    return decorate


async def rate_limit_exceeded(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitExceeded)
    limits: RateLimits = request.app.state.rate_limits
    seconds = limits.retry_after(request)
    return envelope(
        request_id_of(request),
        429,
        CODES[429],
        f"too many requests (limit {exc.detail}); retry in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )
