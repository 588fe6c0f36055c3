"""User mistakes end the command with exit code 2 and one line on stderr, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError

from quant_domain import ConfigError, QuantError
from quant_domain.errors import first_validation_error

P = ParamSpec("P")
R = TypeVar("R")

USAGE_ERROR = 2


def fail(message: str) -> typer.Exit:
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(USAGE_ERROR)


def validation_message(exc: ValidationError, flags: dict[str, str], whole: str) -> str:
    """First pydantic error as 'FLAG: message'; `whole` names the flags a cross-field rule spans."""
    field, message = first_validation_error(exc, unknown=None, missing=None)
    flag = whole if not field else flags.get(field, flags.get(field.partition(".")[0], field))
    return f"{flag}: {message}"


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the platform's own errors into one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise fail(str(exc)) from None
        except QuantError as exc:
            raise fail(str(exc).splitlines()[0]) from None

    return wrapper
