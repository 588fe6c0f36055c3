"""Shapes shared by every resource: the error envelope, pages and constrained strings."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

T = TypeVar("T")

# Identifiers as the strategy YAML allows them (StrategyConfig.id); also keeps NUL and
# control characters away from the database.
StrategyId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Symbol = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-_/^=]{0,31}$")]  # is_valid_symbol
Label = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.\-]+$")]
# Free text a person types (a reason, a note): at least one visible character, no NUL.
Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^\x00]*[^\x00\s][^\x00]*$")]

_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _iso_only(value: object) -> object:
    # pydantic reads bare numbers as Unix timestamps; the API promises ISO 8601 only
    if isinstance(value, bool | int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError("expected an ISO 8601 date or date-time (e.g. 2024-01-31T00:00:00Z)")
    return value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _json_number(value: Decimal) -> float:
    return float(value)


Amount = Annotated[Decimal, PlainSerializer(_json_number, return_type=float, when_used="json")]
"""A price, quantity or sum of money: Decimal inside the API (NUMERIC in the database), a JSON
number on the wire like every other figure (ADR 0004: exact to the cent below 10^13)."""

IsoDate = Annotated[date, BeforeValidator(_iso_only)]
# a time without an offset is taken as UTC (comparable with stored timestamptz values)
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_utc)]


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. validation_error")
    message: str = Field(description="what went wrong and what to do, for people")
    field: str | None = Field(
        description="the input at fault, as the part of the request it sits in and its path: "
        "body.start, body.params.fast, query.page, path.run_id"
    )
    request_id: str = Field(description="echoes the X-Request-ID header; quote it in reports")


class ErrorEnvelope(BaseModel):
    """Every 4xx and 5xx answer has this shape."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "error": {
                    "code": "not_found",
                    "message": "no run 3f0c... exists",
                    "field": None,
                    "request_id": "4b1d2c8e9f0a4e7d8c6b5a4f3e2d1c0b",
                }
            }
        }
    )

    error: ErrorBody


class Page(BaseModel, Generic[T]):
    """One page of a listing, with the total count over every page."""

    items: list[T]
    total: int = Field(ge=0, description="items over all pages")
    page: int = Field(ge=1)
    per_page: int = Field(ge=1)
