"""Refresh tokens on record: a family per sign-in, rotated on every use, revoked on sign-out
or when a rotated token comes back (ADR 0014).

Every change to a user's tokens first locks that user's row (FOR NO KEY UPDATE, which leaves
foreign-key checks from other tables alone), so rotations, sign-outs, reuse detection and
deactivation of one user happen one after the other: two refreshes of the same token cannot
both rotate it, a family revoked for reuse cannot gain a successor a moment later, and no two
clean-ups deadlock over the same expired rows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.auth import RefreshClaims, Tokens, require_active, unauthorized
from quant_api.schemas.v1.auth import TokenPair
from quant_db.audit import record
from quant_db.schema import RefreshToken, User

log = structlog.get_logger("quant_api")

SIGN_IN_AGAIN = "sign in again"


def _now() -> datetime:
    return datetime.now(UTC)


async def _lock_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.scalar(
        select(User)
        .where(User.id == user_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


async def _record(
    session: AsyncSession,
    tokens: Tokens,
    user_id: int,
    family_id: uuid.UUID,
    signed_in_at: datetime,
    now: datetime,
) -> tuple[uuid.UUID, TokenPair]:
    """Record a new refresh token of `family_id` and return its pair; the user's expired rows
    go at the same time (they can no longer be presented: the JWT's exp is the row's). It
    expires a refresh lifetime from now, or when its sign-in ends if that comes first."""
    await session.execute(
        delete(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.expires_at <= now)
    )
    # whole seconds, as the JWT's iat and exp are: a pair rebuilt from the record must match
    # the one handed out byte for byte
    issued = now.replace(microsecond=0)
    row = RefreshToken(
        jti=uuid.uuid4(),
        user_id=user_id,
        family_id=family_id,
        signed_in_at=signed_in_at,
        issued_at=issued,
        expires_at=min(issued + tokens.refresh_ttl, signed_in_at + tokens.session_ttl),
    )
    session.add(row)
    await session.flush()
    return row.jti, tokens.pair(user_id, row.jti, row.issued_at, row.expires_at, family_id)


async def start_family(session: AsyncSession, tokens: Tokens, user: User) -> TokenPair:
    """A sign-in: a pair whose refresh token starts a new family. Commits."""
    await _lock_user(session, user.id)
    now = _now()
    signed_in = now.replace(microsecond=0)
    _jti, pair = await _record(session, tokens, user.id, uuid.uuid4(), signed_in, now)
    await session.commit()
    return pair


async def rotate(
    session: AsyncSession, tokens: Tokens, token: str, *, grace: timedelta, request_id: str
) -> TokenPair:
    """Exchange a live refresh token for the next pair of its family, in one transaction.

    401 `token_reused` (and the whole family revoked) for a token that was already exchanged,
    unless it is the family's previous token presented again within the grace window, which
    gets the same pair its first exchange got. 401 `token_revoked` for a token signed out or
    not on record, `inactive_user` (and every token of the user revoked) for a deactivated user.
    """
    claims = tokens.refresh_claims(token)
    now = _now()
    user = await _lock_user(session, claims.user_id)
    if user is None:
        raise unauthorized("the token's user no longer exists", "invalid_token")
    if not user.is_active:
        await revoke_all(session, user.id, now)
        await session.commit()
        require_active(user)
    row = await session.get(RefreshToken, claims.jti)
    if row is None or row.user_id != user.id:
        raise unauthorized(
            f"this refresh token is not on record (issued before tokens were recorded, or "
            f"expired and cleaned up): {SIGN_IN_AGAIN}",
            "token_revoked",
        )
    if row.revoked_at is not None:
        return await _revoked(session, tokens, user, row, now, grace, request_id)
    if row.signed_in_at + tokens.session_ttl <= now:
        await revoke_family(session, row.family_id, now)
        await session.commit()
        days = tokens.session_ttl.days
        raise unauthorized(
            f"this sign-in is more than {days} days old: {SIGN_IN_AGAIN}", "session_expired"
        )
    if row.expires_at <= now:
        raise unauthorized(f"refresh token expired: {SIGN_IN_AGAIN}", "token_expired")
    successor, pair = await _record(session, tokens, user.id, row.family_id, row.signed_in_at, now)
    exchanged = await session.scalar(
        update(RefreshToken)
        .where(RefreshToken.jti == row.jti, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now, replaced_by=successor)
        .returning(RefreshToken.jti)
        .execution_options(synchronize_session=False)
    )
    if exchanged is None:
        # the user lock makes this unreachable; if it ever is, the successor is rolled back and
        # no second pair leaves
        raise unauthorized(
            f"this refresh token was just exchanged: {SIGN_IN_AGAIN}", "token_revoked"
        )
    await session.commit()
    return pair


async def _revoked(
    session: AsyncSession,
    tokens: Tokens,
    user: User,
    row: RefreshToken,
    now: datetime,
    grace: timedelta,
    request_id: str,
) -> TokenPair:
    """A revoked token was presented: the grace answer, or reuse (family revoked), or 401."""
    if row.replaced_by is None:
        raise unauthorized(
            f"this refresh token was revoked (signed out): {SIGN_IN_AGAIN}", "token_revoked"
        )
    assert row.revoked_at is not None
    if grace > timedelta(0) and now - row.revoked_at <= grace:
        successor = await session.get(RefreshToken, row.replaced_by)
        if successor is not None and successor.revoked_at is None and successor.expires_at > now:
            # a second request that left with the same cookie (another tab, another server):
            # the same answer as the first, nothing new minted
            return tokens.pair(
                user.id,
                successor.jti,
                successor.issued_at,
                successor.expires_at,
                successor.family_id,
            )
    revoked = await revoke_family(session, row.family_id, now)
    record(
        session,
        user=user,
        action="auth.refresh_token_reused",
        target_type="user",
        target_id=str(user.id),
        detail={"family_id": str(row.family_id), "jti": str(row.jti), "revoked": revoked},
        request_id=request_id,
    )
    await session.commit()
    log.warning(
        "refresh_token_reused", user_id=user.id, family_id=str(row.family_id), revoked=revoked
    )
    raise unauthorized(
        f"this refresh token was already exchanged; every session of this sign-in is now "
        f"revoked: {SIGN_IN_AGAIN}",
        "token_reused",
    )


async def _revoke_live(session: AsyncSession, which: ColumnElement[bool], now: datetime) -> int:
    """Revoke the live tokens `which` selects; how many there were. The caller holds the user
    lock."""
    result = await session.execute(
        update(RefreshToken)
        .where(which, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(RefreshToken.jti)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> int:
    """Revoke every live token of a family; how many were live. The caller holds the user lock."""
    return await _revoke_live(session, RefreshToken.family_id == family_id, now)


async def revoke_all(session: AsyncSession, user_id: int, now: datetime) -> int:
    """Revoke every live token of a user; how many were live. The caller holds the user lock."""
    return await _revoke_live(session, RefreshToken.user_id == user_id, now)


async def sign_out(
    session: AsyncSession, user: User, claims: RefreshClaims | None
) -> tuple[int, uuid.UUID | None]:
    """Revoke the family of the token `claims` names (it must be the user's), or with no claims
    every token of the user; how many were live and which family. The caller commits."""
    now = _now()
    await _lock_user(session, user.id)
    if claims is None:
        return await revoke_all(session, user.id, now), None
    family = await session.scalar(
        select(RefreshToken.family_id).where(
            RefreshToken.jti == claims.jti, RefreshToken.user_id == user.id
        )
    )
    if family is None:  # not on record: nothing it could refresh, so nothing to revoke
        return 0, None
    return await revoke_family(session, family, now), family
