"""POST /v1/auth/login and /v1/auth/refresh (anonymous), GET /v1/auth/me."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from quant_api.auth import TokenKind, authenticate, unauthorized
from quant_api.deps import CurrentUser, ResourcesDep, SessionDep
from quant_api.errors import error_responses
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.auth import LoginRequest, RefreshRequest, TokenPair, UserPublic
from quant_db.schema import User

router = APIRouter(prefix="/auth", tags=["auth"])


def _pair(resources: ResourcesDep, user: User) -> TokenPair:
    issued = resources.tokens.issue(user.id)
    return TokenPair(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
    )


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
    return _pair(resources, user)


@router.post(
    "/refresh",
    summary="Exchange a refresh token for a new pair (an access token is refused here)",
    responses=error_responses(400, 401, 422),
)
async def refresh(body: RefreshRequest, session: SessionDep, resources: ResourcesDep) -> TokenPair:
    user_id = resources.tokens.user_id(body.refresh_token, TokenKind.REFRESH)
    user = await session.get(User, user_id)
    if user is None:
        raise unauthorized("the token's user no longer exists", "invalid_token")
    if not user.is_active:
        raise unauthorized(f"user {user.username!r} is deactivated", "inactive_user")
    return _pair(resources, user)


@router.get(
    "/me",
    summary="The signed-in user",
    responses=error_responses(401, 429),
)
@rate_limited(LimitScope.READS)
async def me(request: Request, response: Response, user: CurrentUser) -> UserPublic:
    return UserPublic(id=user.id, username=user.username, role=user.role, is_active=user.is_active)
