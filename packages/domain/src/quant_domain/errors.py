"""The platform's exception hierarchy: one base, one subclass per kind of failure."""

from __future__ import annotations


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


class RiskRejected(QuantError):
    """A risk rule refused an order; the message names the rule."""


class KillSwitchActive(RiskRejected):
    """The kill switch is engaged: no new order may be sent."""
