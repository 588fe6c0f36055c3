"""Passwords (argon2 via pwdlib) and tokens (PyJWT, HS256): access and refresh, told apart by `typ`."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from quant_api.errors import ApiError
from quant_api.schemas.v1.auth import TokenPair
from quant_api.settings import ApiSettings
from quant_db.schema import RefreshToken, User
from quant_db.schema.identity import Role

ALGORITHM = "HS256"
ISSUER = "quant-api"
ROLE_RANK = {Role.VIEWER: 0, Role.TRADER: 1, Role.ADMIN: 2}
BEARER = {"WWW-Authenticate": "Bearer"}
FAMILY_CLAIM = "fam"  # an access token's sign-in: revoking the family ends the token too


class TokenKind(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


def unauthorized(message: str, code: str = "not_authenticated") -> ApiError:
    return ApiError(401, message, code=code, headers=BEARER)


class Passwords:
    """Hash and verify with argon2; the cost comes from settings (tests use a cheap one)."""

    def __init__(self, settings: ApiSettings) -> None:
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.password_time_cost,
                    memory_cost=settings.password_memory_cost,
                    parallelism=settings.password_parallelism,
                ),
            )
        )
        self._decoy: str | None = None

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    def verify(self, password: str, hashed: str | None) -> bool:
        """True when `password` matches; with no hash, spend the same time and say False."""
        if hashed is None:
            # an unknown username costs as much as a wrong password: no user enumeration by timing
            if self._decoy is None:
                self._decoy = self._hash.hash(uuid.uuid4().hex)
            self._hash.verify(password, self._decoy)
            return False
        return self._hash.verify(password, hashed)


@dataclass(frozen=True, slots=True)
class Tokens:
    """Signs and checks the two kinds of token; the user's role is read from the database."""

    secret: str
    access_ttl: timedelta
    refresh_ttl: timedelta
    session_ttl: timedelta = timedelta(days=30)
    """How long a sign-in lasts from the password, across every refresh (ADR 0014)."""

    @classmethod
    def from_settings(cls, settings: ApiSettings, secret: str) -> Tokens:
        return cls(
            secret=secret,
            access_ttl=timedelta(minutes=settings.access_token_minutes),
            refresh_ttl=timedelta(days=settings.refresh_token_days),
            session_ttl=timedelta(days=settings.session_max_days),
        )

    def encode(
        self,
        user_id: int,
        kind: TokenKind,
        *,
        now: datetime | None = None,
        jti: uuid.UUID | None = None,
        expires: datetime | None = None,
        family: uuid.UUID | None = None,
    ) -> str:
        """A signed token; an access token names its sign-in (`family`) or no route accepts it."""
        issued = now or datetime.now(UTC)
        ttl = self.access_ttl if kind is TokenKind.ACCESS else self.refresh_ttl
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "typ": kind.value,
            "iss": ISSUER,
            "iat": issued,
            "exp": expires or issued + ttl,
            "jti": (jti or uuid.uuid4()).hex,
        }
        if family is not None:
            claims[FAMILY_CLAIM] = family.hex
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def pair(
        self,
        user_id: int,
        refresh_jti: uuid.UUID,
        issued: datetime,
        expires: datetime,
        family: uuid.UUID,
    ) -> TokenPair:
        """The pair of the refresh token recorded as `refresh_jti`, the same string every time.

        HS256 is deterministic and every claim comes from the record (the access token's jti is
        derived from the refresh token's, its family is the record's), so a refresh answered
        again within the reuse grace window hands out exactly the pair the first answer did
        (ADR 0014).
        """
        return TokenPair(
            access_token=self.encode(
                user_id,
                TokenKind.ACCESS,
                now=issued,
                jti=uuid.uuid5(refresh_jti, "access"),
                family=family,
            ),
            refresh_token=self.encode(
                user_id, TokenKind.REFRESH, now=issued, jti=refresh_jti, expires=expires
            ),
            expires_in=int(self.access_ttl.total_seconds()),
        )

    def access_claims(self, token: str) -> AccessClaims:
        """Who a valid, unexpired access token names, its sign-in and its expiry; 401 otherwise
        (an access token from before tokens named their sign-in included)."""
        claims = self._decode(token, TokenKind.ACCESS)
        if FAMILY_CLAIM not in claims:
            raise unauthorized(
                "this access token names no sign-in (issued before revocation reached access "
                "tokens): sign in again",
                "invalid_token",
            )
        try:
            return AccessClaims(
                user_id=int(claims["sub"]),
                expires=float(claims["exp"]),
                family=uuid.UUID(hex=claims[FAMILY_CLAIM]),
            )
        except (TypeError, ValueError):
            raise unauthorized("invalid access token", "invalid_token") from None

    def refresh_claims(self, token: str, *, check_expiry: bool = True) -> RefreshClaims:
        """Who a refresh token names and its jti; 401 when it is not a valid refresh token.

        `check_expiry=False` accepts an expired one (revoking a family never needs a live token).
        """
        claims = self._decode(token, TokenKind.REFRESH, check_expiry=check_expiry)
        try:
            return RefreshClaims(user_id=int(claims["sub"]), jti=uuid.UUID(hex=claims["jti"]))
        except (KeyError, TypeError, ValueError):
            raise unauthorized("invalid refresh token", "invalid_token") from None

    def _decode(self, token: str, kind: TokenKind, *, check_expiry: bool = True) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={
                    "require": ["sub", "typ", "exp", "iat", "iss"],
                    "verify_exp": check_expiry,
                },
            )
        except jwt.ExpiredSignatureError:
            what = (
                "access token expired: POST /v1/auth/refresh"
                if kind is TokenKind.ACCESS
                else ("refresh token expired: sign in again")
            )
            raise unauthorized(what, "token_expired") from None
        except jwt.InvalidTokenError:
            raise unauthorized(f"invalid {kind.value} token", "invalid_token") from None
        if claims.get("typ") != kind.value:
            raise unauthorized(
                f"wrong kind of token: {claims.get('typ')} (this needs the {kind.value} token)",
                "invalid_token",
            )
        return claims


@dataclass(frozen=True, slots=True)
class RefreshClaims:
    user_id: int
    jti: uuid.UUID


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    expires: float  # POSIX seconds
    family: uuid.UUID  # the sign-in (refresh token family) the token was issued to


class SignedInUsers:
    """Who an access token (or API key) belongs to, remembered for `seconds` (never past the
    credential's expiry).

    Reads skip the signature check and the users row while an entry lasts, so deactivating,
    deleting or demoting a user, ending a sign-in or revoking a key reaches their reads within
    `seconds`; writes always check (see deps.get_current_user). Entries are detached copies
    holding only id, username, role and is_active, so concurrent requests can share them.
    """

    def __init__(self, seconds: float, size: int = 4096) -> None:
        self.seconds = seconds
        self.size = size
        self._entries: OrderedDict[str, tuple[User, float, int | None]] = OrderedDict()

    def get(self, token: str) -> User | None:
        found = self.lookup(token)
        return None if found is None else found[0]

    def lookup(self, token: str) -> tuple[User, int | None] | None:
        """The user and, for an API key, the key's id."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry[1] <= time.time():
            del self._entries[token]
            return None
        return entry[0], entry[2]

    def put(self, token: str, user: User, token_expires: float, key_id: int | None = None) -> None:
        if self.seconds <= 0:
            return
        copy = User(id=user.id, username=user.username, role=user.role, is_active=user.is_active)
        self._entries[token] = (copy, min(time.time() + self.seconds, token_expires), key_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


async def authenticate(
    session: AsyncSession, passwords: Passwords, username: str, password: str
) -> User:
    """The active user with these credentials, or 401: the same answer for any wrong part, a
    deactivated account included, so the answer never confirms a password or an account."""
    user = await session.scalar(select(User).where(User.username == username))
    ok = await run_in_threadpool(
        passwords.verify, password, None if user is None else user.password_hash
    )
    if user is None or not ok or not user.is_active:
        raise unauthorized("wrong username or password", "invalid_credentials")
    return user


async def signed_in_user(session: AsyncSession, claims: AccessClaims) -> User:
    """The active user of a live sign-in, in one round trip; 401 when the user is gone or
    deactivated, or the sign-in was ended (signed out, replayed, revoked by deactivation or a new
    password): a family is live while one of its refresh tokens is unrevoked."""
    live = (
        select(RefreshToken.jti)
        .where(RefreshToken.family_id == claims.family, RefreshToken.revoked_at.is_(None))
        .exists()
    )
    row = (await session.execute(select(User, live).where(User.id == claims.user_id))).one_or_none()
    if row is None:
        raise unauthorized("the token's user no longer exists", "invalid_token")
    user, family_live = row
    require_active(user)
    if not family_live:
        raise unauthorized(
            "this sign-in has ended (signed out, or revoked): sign in again", "token_revoked"
        )
    return user


def require_active(user: User) -> User:
    if not user.is_active:
        raise unauthorized(f"user {user.username!r} is deactivated", "inactive_user")
    return user


def has_role(user: User, minimum: Role) -> bool:
    return ROLE_RANK[user.role] >= ROLE_RANK[minimum]
