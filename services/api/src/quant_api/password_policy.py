"""The minimum a new password must meet, wherever one is set (CLI today, any API route later)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # what the login route accepts


@cache
def common_passwords() -> frozenset[str]:
    text = (files("quant_api") / "common_passwords.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line.casefold() for line in lines if line and not line.startswith("#"))


def password_problem(password: str, username: str) -> str | None:
    """Why `password` will not do for `username`, in a few words; None when it will.

    Length first (NIST SP 800-63B's minimum for a chosen password), then the two guesses an
    attacker tries first: the username itself (with a few characters around it) and the passwords
    every leaked list starts with.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"at most {MAX_PASSWORD_LENGTH} characters"
    if "\x00" in password:
        return "no NUL characters"
    folded, name = password.casefold(), username.casefold()
    if name and len(folded.replace(name, "")) < MIN_PASSWORD_LENGTH and name in folded:
        return (
            f"it must not be the username, nor the username and fewer than "
            f"{MIN_PASSWORD_LENGTH} other characters"
        )
    if folded in common_passwords():
        return "it is one of the most common passwords; choose another"
    return None
