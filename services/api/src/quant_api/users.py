"""Creating API users (the `quant users create` command and the tests use this)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.auth import Passwords
from quant_db.schema import User
from quant_db.schema.identity import Role
from quant_domain import QuantError

USERNAME = re.compile(r"^[A-Za-z0-9_.@\-]{3,64}$")
MIN_PASSWORD_LENGTH = 8


class UserError(QuantError):
    """A user cannot be created as asked (taken name, bad name, short password)."""


def check_new_user(username: str, password: str) -> None:
    if not USERNAME.match(username):
        raise UserError(f"username {username!r}: use 3-64 letters, digits and . _ @ - (no spaces)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password: at least {MIN_PASSWORD_LENGTH} characters")


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
