"""The platform's exception hierarchy: one base, one subclass per kind of failure."""

from __future__ import annotations

from pydantic import ValidationError


class QuantError(Exception):
    """Base class of every error the platform raises on purpose."""


class ConfigError(QuantError):
    """A configuration file or value is wrong; names the file, line and field at fault."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
            where += ": "
        what = f"{self.field}: " if self.field else ""
        return f"{where}{what}{self.message}"


class DataError(QuantError):
    """Market data could not be found or read."""


class DataNotFoundError(DataError):
    """A symbol, file or date range has no data in the source asked."""


class DataQualityError(DataError):
    """Bars failed validation; `problems` lists what is wrong and where."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        super().__init__(message)


class OrderError(QuantError):
    """An order is malformed (bad quantity, missing limit price, ...)."""


class BrokerUnavailable(QuantError):
    """A broker cannot be reached, refused our credentials or is between reconnects: nothing
    was sent (fail closed). The message names the broker and the endpoint, never a key."""


class RiskRejected(QuantError):
    """A risk rule refused an order; the message names the rule."""


class KillSwitchActive(RiskRejected):
    """The kill switch is engaged: no new order may be sent."""


def first_validation_error(
    exc: ValidationError,
    prefix: tuple[str, ...] = (),
    unknown: str | None = "unknown field",
    missing: str | None = "required field is missing",
) -> tuple[str, str]:
    """The first error of `exc` as (dotted field path, message), for one-line error reports.

    The path is `prefix` then the error's location, "" when both are empty. The message is
    pydantic's without its "Value error, " prefix, except that a forbidden extra field reads
    `unknown` and an absent required field `missing` (None keeps pydantic's wording).
    """
    error = exc.errors()[0]
    path = ".".join(str(part) for part in (*prefix, *error["loc"]))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing" and missing is not None:
        message = missing
    elif error["type"] == "extra_forbidden" and unknown is not None:
        message = unknown
    return path, message
