"""API users: creating them and, for `quant users`, listing, (de)activating, changing roles and
passwords. Deactivation and a new password end every sign-in of that user at once (ADR 0014)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.auth import Passwords
from quant_api.password_policy import password_problem
from quant_api.refresh_tokens import revoke_all
from quant_db.audit import record
from quant_db.schema import User
from quant_db.schema.identity import Role
from quant_domain import QuantError

USERNAME = re.compile(r"^[A-Za-z0-9_.@\-]{3,64}$")


class UserError(QuantError):
    """A user cannot be created as asked (taken name, bad name, weak password)."""


def check_password(password: str, username: str) -> None:
    """UserError naming `password` when it is too weak for `username` (password_policy)."""
    problem = password_problem(password, username)
    if problem is not None:
        raise UserError(f"password: {problem}")


def check_new_user(username: str, password: str) -> None:
    if not USERNAME.match(username):
        raise UserError(f"username {username!r}: use 3-64 letters, digits and . _ @ - (no spaces)")
    check_password(password, username)


async def create_user(
    session: AsyncSession, passwords: Passwords, *, username: str, password: str, role: Role
) -> User:
    """Insert an active user with an argon2 hash of `password`; the caller commits."""
    check_new_user(username, password)
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    user = User(username=username, password_hash=passwords.hash(password), role=role)
    session.add(user)
    await session.flush()
    return user


async def list_users(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.username)))


async def _locked(session: AsyncSession, username: str) -> User:
    """The user, its row locked the way token changes lock it (refresh_tokens), so a refresh
    cannot slip between a deactivation and the revocation of that user's tokens."""
    user = await session.scalar(
        select(User).where(User.username == username).with_for_update(key_share=True)
    )
    if user is None:
        raise UserError(f"--username: no user {username!r}")
    return user


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a change made outside the API came from, for its audit entry: `via` says who (e.g.
    the CLI on which host), `request_id` ties the entry to that command's output."""

    via: str
    request_id: str


def _audit(
    session: AsyncSession, user: User, action: str, origin: Origin, **detail: object
) -> None:
    """Audited with no acting user: `origin` says where the change came from."""
    record(
        session,
        user=None,
        action=action,
        target_type="user",
        target_id=str(user.id),
        detail={"target": user.username, "via": origin.via, **detail},
        request_id=origin.request_id,
    )


async def set_active(session: AsyncSession, username: str, active: bool, *, origin: Origin) -> int:
    """Activate or deactivate `username`; a deactivation revokes every refresh token of theirs.
    How many tokens were revoked. The caller commits."""
    user = await _locked(session, username)
    revoked = 0 if active else await revoke_all(session, user.id, datetime.now(UTC))
    if user.is_active != active:
        _audit(
            session,
            user,
            "user.activate" if active else "user.deactivate",
            origin,
            revoked_tokens=revoked,
        )
    user.is_active = active
    return revoked


async def set_role(session: AsyncSession, username: str, role: Role, *, origin: Origin) -> Role:
    """Give `username` another role (read on every request: no sign-in needs ending); the role
    it had. The caller commits."""
    user = await _locked(session, username)
    before = user.role
    if before is not role:
        _audit(session, user, "user.role", origin, before=before.value, after=role.value)
    user.role = role
    return before


async def set_password(
    session: AsyncSession, passwords: Passwords, username: str, password: str, *, origin: Origin
) -> int:
    """A new password for `username`, ending every sign-in made with the old one; how many
    refresh tokens were revoked. The caller commits."""
    check_password(password, username)
    user = await _locked(session, username)
    user.password_hash = passwords.hash(password)
    revoked = await revoke_all(session, user.id, datetime.now(UTC))
    _audit(session, user, "user.password", origin, revoked_tokens=revoked)
    return revoked
