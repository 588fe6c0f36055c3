"""POST /v1/auth/login and /v1/auth/refresh (anonymous), GET /v1/auth/me."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from quant_api.auth import TokenKind, active_user, authenticate
from quant_api.deps import CurrentUser, ResourcesDep, SessionDep
from quant_api.errors import error_responses
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.auth import LoginRequest, RefreshRequest, TokenPair, UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    summary="Exchange a username and password for an access and a refresh token",
    description="Rate limited per client IP (5/minute by default).",
    responses=error_responses(400, 401, 422, 429),
)
@rate_limited(LimitScope.LOGIN)
async def login(
    request: Request,
    response: Response,
    body: LoginRequest,
    session: SessionDep,
    resources: ResourcesDep,
) -> TokenPair:
    user = await authenticate(session, resources.passwords, body.username, body.password)
    request.state.username = user.username
    return resources.tokens.issue(user.id)


@router.post(
    "/refresh",
    summary="Exchange a refresh token for a new pair (an access token is refused here)",
    responses=error_responses(400, 401, 422),
)
async def refresh(body: RefreshRequest, session: SessionDep, resources: ResourcesDep) -> TokenPair:
    user_id = resources.tokens.user_id(body.refresh_token, TokenKind.REFRESH)
    user = await active_user(session, user_id)
    return resources.tokens.issue(user.id)


@router.get(
    "/me",
    summary="The signed-in user",
    responses=error_responses(401, 429),
)
@rate_limited(LimitScope.READS)
async def me(request: Request, response: Response, user: CurrentUser) -> UserPublic:
    return UserPublic(id=user.id, username=user.username, role=user.role, is_active=user.is_active)
