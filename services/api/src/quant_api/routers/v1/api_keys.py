"""API keys for scripts: create (the key is shown once), list, revoke. Audited (ADR 0016)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response

from quant_api.api_keys import Actor, ApiKeyError, create_key, list_keys, revoke_key
from quant_api.deps import CurrentUser, PasswordUser, RequestId, RowId, SessionDep
from quant_api.errors import ApiError, error_responses
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from quant_db.schema import ApiKey
from quant_db.schema.identity import Role

router = APIRouter(prefix="/api-keys", tags=["api keys"])


def _public(key: ApiKey, owner: str) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        role=key.role,
        owner=owner,
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def _refused(exc: ApiKeyError, part: str) -> ApiError:
    status = 404 if exc.field == "key_id" else 403 if exc.field == "role" else 422
    return ApiError(status, exc.message, field=f"{part}.{exc.field}")


@router.post(
    "",
    status_code=201,
    summary="Create an API key for the signed-in user (the key is in this answer only)",
    description="The key acts for its creator with `role`, which may not be above the "
    "creator's own (403 naming `body.role`); if the creator is later demoted the key is too, "
    "and if the creator is deactivated or the key revoked it stops working (writes at once, "
    "reads within QUANT_AUTH_CACHE_SECONDS). Send it as `Authorization: Bearer <key>` or "
    "`X-API-Key: <key>`. A request made with an API key cannot create or revoke keys (403). "
    "Audited as `api_key.create`; rate limited per user.",
    responses=error_responses(400, 401, 403, 422, 429),
)
@rate_limited(LimitScope.API_KEYS)
async def create_api_key(
    request: Request,
    response: Response,
    user: PasswordUser,
    body: ApiKeyCreate,
    session: SessionDep,
    request_id: RequestId,
) -> ApiKeyCreated:
    expires = (
        None
        if body.expires_in_days is None
        else datetime.now(UTC) + timedelta(days=body.expires_in_days)
    )
    try:
        key, secret = await create_key(
            session,
            user,
            name=body.name,
            role=body.role,
            expires_at=expires,
            actor=Actor(user, request_id),
        )
    except ApiKeyError as exc:
        raise _refused(exc, "body") from None
    await session.commit()
    await session.refresh(key)
    return ApiKeyCreated(**_public(key, user.username).model_dump(), key=secret)


@router.get(
    "",
    summary="API keys, newest first: the caller's own, or for an admin everyone's",
    description="Never the keys themselves (only their hashes are kept): the prefix tells "
    "them apart.",
    responses=error_responses(401, 429),
)
@rate_limited(LimitScope.READS)
async def list_api_keys(
    request: Request, response: Response, user: CurrentUser, session: SessionDep
) -> list[ApiKeyPublic]:
    owner = None if user.role is Role.ADMIN else user.id
    return [_public(key, name) for key, name in await list_keys(session, owner)]


@router.post(
    "/{key_id}/revoke",
    summary="Revoke an API key (its owner, or an admin); it stops working at once",
    description="Writes made with it are refused at once, reads within "
    "QUANT_AUTH_CACHE_SECONDS. Revoking a revoked key is fine and changes nothing. Audited as "
    "`api_key.revoke`.",
    responses=error_responses(401, 403, 404, 422, 429),
)
@rate_limited(LimitScope.API_KEYS)
async def revoke_api_key(
    request: Request,
    response: Response,
    key_id: RowId,
    user: PasswordUser,
    session: SessionDep,
    request_id: RequestId,
) -> ApiKeyPublic:
    try:
        key, owner = await revoke_key(session, key_id, Actor(user, request_id))
    except ApiKeyError as exc:
        raise _refused(exc, "path") from None
    await session.commit()
    return _public(key, owner)
