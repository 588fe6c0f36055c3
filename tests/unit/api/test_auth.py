"""The per-token user cache: how long an entry lasts, and what it holds."""

from __future__ import annotations

import time

import pytest

from quant_api.auth import SignedInUsers
from quant_db.schema import User
from quant_db.schema.identity import Role


def _user() -> User:
    return User(id=7, username="ana", password_hash="secret", role=Role.TRADER, is_active=True)


def test_signed_in_users_returns_a_copy_without_the_password_hash() -> None:
    users = SignedInUsers(seconds=5)
    users.put("token", _user(), token_expires=time.time() + 900)
    cached = users.get("token")
    assert cached is not None
    assert (cached.id, cached.username, cached.role, cached.is_active) == (
        7,
        "ana",
        Role.TRADER,
        True,
    )
    assert cached.password_hash is None


def test_signed_in_users_forgets_an_entry_after_its_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    users = SignedInUsers(seconds=5)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    users.put("token", _user(), token_expires=now + 900)
    monkeypatch.setattr(time, "time", lambda: now + 4.9)
    assert users.get("token") is not None
    monkeypatch.setattr(time, "time", lambda: now + 5.0)
    assert users.get("token") is None


def test_signed_in_users_never_outlives_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    users = SignedInUsers(seconds=5)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    users.put("token", _user(), token_expires=now + 1)
    monkeypatch.setattr(time, "time", lambda: now + 1)
    assert users.get("token") is None


def test_signed_in_users_with_zero_seconds_keeps_nothing() -> None:
    users = SignedInUsers(seconds=0)
    users.put("token", _user(), token_expires=time.time() + 900)
    assert users.get("token") is None


def test_signed_in_users_drops_the_oldest_entry_past_its_size() -> None:
    users = SignedInUsers(seconds=5, size=2)
    for token in ("a", "b", "c"):
        users.put(token, _user(), token_expires=time.time() + 900)
    assert [users.get(t) is not None for t in ("a", "b", "c")] == [False, True, True]
