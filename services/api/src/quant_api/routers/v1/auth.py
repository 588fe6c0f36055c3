"""POST /v1/auth/login and /v1/auth/refresh (anonymous), POST /v1/auth/logout, GET /v1/auth/me."""

from __future__ import annotations

from datetime import timedelta

import structlog
from fastapi import APIRouter, Request, Response

from quant_api.auth import RefreshClaims, authenticate
from quant_api.deps import CurrentUser, RequestId, ResourcesDep, SessionDep, client_address
from quant_api.errors import ApiError, error_responses, invalid
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.refresh_tokens import rotate, sign_out, start_family
from quant_api.schemas.v1.auth import (
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    TokenPair,
    UserPublic,
)
from quant_db.audit import record

router = APIRouter(prefix="/auth", tags=["auth"])
log = structlog.get_logger("quant_api")

ROTATION = (
    "Each refresh token works once: the answer carries the next refresh token of the same "
    "sign-in (its family), and the one sent is revoked. Sending an exchanged token again is "
    "401 `token_reused` and revokes the whole family, except within "
    "QUANT_REFRESH_REUSE_GRACE_SECONDS (default 10) of its exchange while its successor is "
    "unused, when it gets the same pair again (two requests that left with the same token). "
    "A signed-out token, or one issued before tokens were recorded, is 401 `token_revoked`; "
    "a deactivated user's is 401 `inactive_user` and all of that user's tokens are revoked. "
    "A sign-in lasts QUANT_SESSION_MAX_DAYS (default 30) from the password however often it "
    "refreshes; after that the refresh is 401 `session_expired`."
)


@router.post(
    "/login",
    summary="Exchange a username and password for an access and a refresh token",
    description="Failed sign-ins are limited per username (QUANT_RATE_LIMIT_LOGIN_ACCOUNT, "
    "5/minute by default) and per client address (QUANT_RATE_LIMIT_LOGIN, 10/minute); a "
    "sign-in that succeeds does not count. Past either limit every attempt is a 429 with "
    "Retry-After, the right password included. A wrong password, an unknown user and a "
    "deactivated account get the same 401. The refresh token starts a new family (one per "
    "sign-in): see /v1/auth/refresh.",
    responses=error_responses(400, 401, 413, 422, 429),
)
async def login(
    request: Request, body: LoginRequest, session: SessionDep, resources: ResourcesDep
) -> TokenPair:
    address = client_address(request)
    attempt = await resources.login_limits.admit(body.username, address)
    try:
        user = await authenticate(session, resources.passwords, body.username, body.password)
    except ApiError as exc:
        log.warning("login_failed", username=body.username, client=address, reason=exc.code)
        raise
    await resources.login_limits.succeeded(attempt)
    request.state.username = user.username
    return await start_family(session, resources.tokens, user)


@router.post(
    "/refresh",
    summary="Exchange a refresh token for a new pair; the refresh token sent is used up",
    description=ROTATION,
    responses=error_responses(400, 401, 422),
)
async def refresh(
    body: RefreshRequest, session: SessionDep, resources: ResourcesDep, request_id: RequestId
) -> TokenPair:
    return await rotate(
        session,
        resources.tokens,
        body.refresh_token,
        grace=timedelta(seconds=resources.settings.refresh_reuse_grace_seconds),
        request_id=request_id,
    )


@router.post(
    "/logout",
    status_code=204,
    summary="Sign out: revoke a refresh token's whole sign-in, or with `all` every sign-in",
    description="Send `refresh_token` (one of the caller's; its family is revoked) or "
    "`all: true` (every refresh token of the caller). Access tokens already issued still work "
    "until they expire (15 minutes by default). Audited; rate limited per user (10/minute by "
    "default). Signing out a token that is already revoked, or no longer on record, is a 204 "
    "that revokes nothing.",
    responses=error_responses(400, 401, 422, 429),
)
@rate_limited(LimitScope.LOGOUT)
async def logout(
    request: Request,
    response: Response,
    user: CurrentUser,
    body: LogoutRequest,
    session: SessionDep,
    resources: ResourcesDep,
    request_id: RequestId,
) -> None:
    claims = _claims_to_revoke(body, user.id, resources)
    revoked, family = await sign_out(session, user, claims)
    detail: dict[str, object] = {"scope": "all" if claims is None else "family", "revoked": revoked}
    if family is not None:
        detail["family_id"] = str(family)
    record(
        session,
        user=user,
        action="auth.logout",
        target_type="user",
        target_id=str(user.id),
        detail=detail,
        request_id=request_id,
    )
    await session.commit()


def _claims_to_revoke(
    body: LogoutRequest, user_id: int, resources: ResourcesDep
) -> RefreshClaims | None:
    """The refresh token's claims, None for `all`; 422 naming the field for anything else."""
    if body.all:
        if body.refresh_token is not None:
            raise invalid("body.all", "send either refresh_token or all=true, not both")
        return None
    if body.refresh_token is None:
        raise invalid(
            "body.refresh_token",
            "send the refresh token to revoke, or all=true to sign out everywhere",
        )
    try:
        claims = resources.tokens.refresh_claims(body.refresh_token, check_expiry=False)
    except ApiError as exc:
        raise invalid("body.refresh_token", exc.message) from None
    if claims.user_id != user_id:
        raise invalid("body.refresh_token", "this refresh token belongs to another user")
    return claims


@router.get(
    "/me",
    summary="The signed-in user",
    responses=error_responses(401, 429),
)
@rate_limited(LimitScope.READS)
async def me(request: Request, response: Response, user: CurrentUser) -> UserPublic:
    return UserPublic(id=user.id, username=user.username, role=user.role, is_active=user.is_active)
