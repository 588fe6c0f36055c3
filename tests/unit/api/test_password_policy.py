"""The minimum a new password must meet: length, not the username, not a common password."""

from __future__ import annotations

import pytest

from quant_api.password_policy import common_passwords, password_problem
from quant_api.users import UserError, check_password
from quant_cli.up_cmd import DEMO_PASSWORD, DEMO_USER


@pytest.mark.parametrize(
    ("password", "username", "problem"),
    [
        ("short", "ana", "at least 8 characters"),
        ("x" * 1025, "ana", "at most 1024 characters"),
        ("anabelle-smith", "anabelle-smith", "must not be the username"),
        ("ANABELLE-SMITH", "anabelle-smith", "must not be the username"),
        ("alice2024", "alice", "must not be the username"),
        ("Password123", "ana", "one of the most common passwords"),
        ("qwertyuiop", "ana", "one of the most common passwords"),
    ],
)
def test_a_weak_password_is_refused_saying_why(password: str, username: str, problem: str) -> None:
    found = password_problem(password, username)
    assert found is not None
    assert problem in found


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("correct horse battery", "ana"),
        ("s3cret-enough", "carol"),
        # the browser tests' users (apps/dashboard/e2e/stack.py): the name plus 9 more characters
        ("admin-pass-123", "admin"),
        ("trader-pass-123", "trader"),
        ("viewer-pass-123", "viewer"),
    ],
)
def test_a_reasonable_password_passes(password: str, username: str) -> None:
    assert password_problem(password, username) is None


def test_the_demo_login_quant_up_creates_passes_the_policy() -> None:
    assert password_problem(DEMO_PASSWORD, DEMO_USER) is None


def test_check_password_names_the_field_in_one_line() -> None:
    with pytest.raises(UserError) as refused:
        check_password("password1", "ana")
    assert str(refused.value) == (
        "password: it is one of the most common passwords; choose another"
    )


def test_the_common_list_is_loaded_and_compared_without_case() -> None:
    assert len(common_passwords()) > 100
    assert all(p == p.casefold() for p in common_passwords())
