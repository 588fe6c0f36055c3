"""The structlog processor that keeps secrets out of every log line."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, MutableMapping
from typing import Any

REDACTED = "[redacted]"

# field names whose values are secrets whatever they hold; "key" alone is too broad (dedupe_key,
# idempotency_key are useful), so only the kinds of key that grant access
_SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)?$|secret|token|authori[sz]ation|cookie|credential|signature"
    r"|(api|access|secret|private|signing|hmac|webhook|account)[_-]?key|key[_-]?id$|^dsn$",
    re.IGNORECASE,
)
# user:password@ in a URL (database, Redis, SMTP): the password goes, the rest stays readable
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s/]+@", re.IGNORECASE)
# shorter values are too likely to occur by accident in ordinary text
MIN_SECRET_LENGTH = 6


def is_secret_name(name: str) -> bool:
    """True for a field name that looks like it holds a key, token, password or signature."""
    return bool(_SECRET_NAME.search(name))


def secrets_of(settings: object) -> tuple[str, ...]:
    """Secret values held by a settings object: pydantic SecretStr fields (anything with
    get_secret_value) and plain strings under a secret-looking field name."""
    found: list[str] = []
    for name, value in vars(settings).items():
        reveal = getattr(value, "get_secret_value", None)
        if callable(reveal):
            text = reveal()
            if isinstance(text, str) and text:
                found.append(text)
        elif isinstance(value, str) and value and is_secret_name(name):
            found.append(value)
    return tuple(found)


class SecretRedactor:
    """Replaces secret-named fields and every occurrence of a known secret value.

    Runs after the exception renderer, so a secret quoted in a traceback is caught too. Known
    values can be added later (a broker key loaded after start-up) with `add`.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        fresh = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
        with self._lock:
            # longest first, so a secret containing another is replaced whole
            self._secrets = tuple(sorted(set(self._secrets) | fresh, key=len, reverse=True))

    def __call__(
        self, logger: object, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for name in list(event):
            event[name] = self._clean(name, event[name])
        return event

    def _clean(self, name: str, value: Any) -> Any:
        if is_secret_name(name) and value not in (None, "", [], {}):
            return REDACTED
        if isinstance(value, str):
            return self._scrub(value)
        if isinstance(value, dict):
            return {k: self._clean(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._clean("", v) for v in value]
        return value

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _URL_PASSWORD.sub(rf"\g<head>{REDACTED}@", text)
