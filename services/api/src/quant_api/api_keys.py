"""API keys: long-lived credentials for scripts, each acting for its owner with a role no higher
than the owner's (ADR 0016). Created and revoked through the API or `quant api-keys`, audited.

A key reads `qk_<prefix>_<secret>`: the prefix finds the row and names the key in listings, the
whole key's SHA-256 is what is stored. A fast hash is enough here, unlike for passwords: the
secret is 256 random bits, so there is nothing to guess from a leaked hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.auth import ROLE_RANK, unauthorized
from quant_db.audit import record
from quant_db.schema import ApiKey, User
from quant_db.schema.identity import Role
from quant_domain import QuantError

KEY_PREFIX = "qk_"
API_KEY_HEADER = "X-API-Key"
_SHAPE = re.compile(r"^qk_([a-z0-9]{12})_([A-Za-z0-9_\-]{43})$")
LAST_USED_EVERY = timedelta(minutes=1)  # how stale last_used_at may be: not a write per request


class ApiKeyError(QuantError):
    """An API key cannot be created or revoked as asked (role too high, no such key)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks for a change to keys, for the checks and the audit entry: a signed-in user
    (`user`), or an operator at the command line (`user` None, `via` says where)."""

    user: User | None
    request_id: str
    via: str | None = None


def looks_like_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def lower_role(first: Role, second: Role) -> Role:
    return first if ROLE_RANK[first] <= ROLE_RANK[second] else second


def _audit(
    session: AsyncSession, actor: Actor, action: str, key: ApiKey, owner: str, **detail: object
) -> None:
    extra = {} if actor.via is None else {"via": actor.via}
    record(
        session,
        user=actor.user,
        action=action,
        target_type="api_key",
        target_id=str(key.id),
        detail={"prefix": key.prefix, "name": key.name, "owner": owner, **extra, **detail},
        request_id=actor.request_id,
    )


async def create_key(
    session: AsyncSession,
    owner: User,
    *,
    name: str,
    role: Role,
    expires_at: datetime | None,
    actor: Actor,
) -> tuple[ApiKey, str]:
    """A new key of `owner` and the key itself (shown once, never stored); the caller commits."""
    if ROLE_RANK[role] > ROLE_RANK[owner.role]:
        raise ApiKeyError(
            f"a key's role cannot be above its owner's: {owner.username!r} is a "
            f"{owner.role.value}, the key asked for {role.value}",
            "role",
        )
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise ApiKeyError("the expiry must be in the future", "expires_at")
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        user_id=owner.id,
        name=name,
        prefix=prefix,
        secret_hash=digest(key),
        role=role,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    _audit(session, actor, "api_key.create", row, owner.username, role=role.value)
    return row, key


async def list_keys(session: AsyncSession, owner_id: int | None) -> list[tuple[ApiKey, str]]:
    """Keys with their owners' names, newest first: one owner's, or with None everyone's."""
    query = select(ApiKey, User.username).join(User, User.id == ApiKey.user_id)
    if owner_id is not None:
        query = query.where(ApiKey.user_id == owner_id)
    rows = await session.execute(query.order_by(ApiKey.created_at.desc(), ApiKey.id.desc()))
    return [(key, username) for key, username in rows.all()]


async def revoke_key(session: AsyncSession, key_id: int, actor: Actor) -> tuple[ApiKey, str]:
    """Revoke a key (its owner or an admin; from the CLI any); the caller commits. Revoking a
    revoked key changes nothing and is not an error."""
    row = await session.execute(
        select(ApiKey, User.username)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.id == key_id)
        .with_for_update(of=ApiKey)
    )
    found = row.one_or_none()
    user = actor.user
    mine_or_admin = user is None or (
        found is not None and (found[0].user_id == user.id or user.role is Role.ADMIN)
    )
    if found is None or not mine_or_admin:
        # someone else's key is as good as absent: its id says nothing to a non-admin
        whose = "" if user is None or user.role is Role.ADMIN else " of yours"
        raise ApiKeyError(f"no API key {key_id}{whose} exists", "key_id")
    key, owner = found
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        _audit(session, actor, "api_key.revoke", key, owner)
    return key, owner


async def key_user(session: AsyncSession, credential: str) -> tuple[User, ApiKey]:
    """The user a key acts as (a detached copy whose role is the lower of the key's and the
    owner's) and the key; 401 for a key that is unknown, wrong, revoked or expired, or whose
    owner is deactivated or gone."""
    shape = _SHAPE.match(credential)
    if shape is None:
        raise unauthorized("not an API key this server issued", "invalid_token")
    found = (
        await session.execute(
            select(ApiKey, User)
            .join(User, User.id == ApiKey.user_id)
            .where(ApiKey.prefix == shape.group(1))
        )
    ).one_or_none()
    if found is None or not hmac.compare_digest(found[0].secret_hash, digest(credential)):
        raise unauthorized("unknown API key", "invalid_token")
    key, owner = found
    now = datetime.now(UTC)
    if key.revoked_at is not None:
        raise unauthorized(f"API key {key.prefix} was revoked", "token_revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise unauthorized(f"API key {key.prefix} expired", "token_expired")
    if not owner.is_active:
        raise unauthorized(f"user {owner.username!r} is deactivated", "inactive_user")
    acting = User(
        id=owner.id,
        username=owner.username,
        role=lower_role(key.role, owner.role),
        is_active=True,
    )
    return acting, key


async def note_use(session: AsyncSession, key_id: int) -> None:
    """Set last_used_at unless it is recent (so a busy script does not write on every call)."""
    now = datetime.now(UTC)
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_EVERY),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
