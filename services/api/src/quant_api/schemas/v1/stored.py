"""Values read from stored JSON configs for a listing: an odd one is empty or null, never an error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator

from quant_api.schemas.v1.common import Amount


def _object(value: object) -> object:
    return value if isinstance(value, dict) else {}


def _grid(value: object) -> object:
    if not isinstance(value, dict):
        return None
    return {str(k): v for k, v in value.items() if isinstance(v, list)}


def _strings(value: object) -> object:
    return [str(v) for v in value] if isinstance(value, list) else []


def _day(value: object) -> object:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _decimal(value: object) -> object:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


# Pieces of a stored config read by SQL for a listing: an odd value becomes empty or null
# instead of failing every row of the page.
StoredObject = Annotated[dict[str, Any], BeforeValidator(_object)]
StoredGrid = Annotated[dict[str, list[Any]] | None, BeforeValidator(_grid)]
StoredStrings = Annotated[list[str], BeforeValidator(_strings)]
StoredDay = Annotated[date | None, BeforeValidator(_day)]
StoredDecimal = Annotated[Amount | None, BeforeValidator(_decimal)]
