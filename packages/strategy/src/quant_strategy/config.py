"""The strategy config a YAML file describes, validated, with the file and line of every field."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from quant_domain import ConfigError, PositionSizing, Timeframe
from quant_domain.instruments import is_valid_symbol


class SignalThresholds(BaseModel):
    """Generic signal thresholds; each built-in strategy says how it reads them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry: float = Field(
        default=0.0, description="how far past the trigger a signal must be to enter"
    )
    exit: float = Field(default=0.0, description="how far back past the trigger before exiting")
    min_strength: float = Field(default=0.0, ge=0, le=1, description="weaker signals are ignored")


class RiskCaps(BaseModel):
    """Per-strategy limits: the default risk_check sizes within them, and the engine's risk gate
    (quant_engine.risk_gate) enforces them on every order whatever the strategy's risk_check did.

    The caps below min_trade_pct are enforced by the gate only (the sizer does not size to
    them); each defaults to None, which turns it off.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_position_pct: float = Field(
        default=1.0, gt=0, le=10, description="max |position| / equity per symbol"
    )
    max_gross_exposure: float = Field(
        default=1.0, gt=0, le=10, description="max sum |positions| / equity"
    )
    allow_short: bool = False
    max_positions: int | None = Field(default=None, ge=1, description="max symbols held at once")
    min_trade_pct: float = Field(
        default=0.0, ge=0, le=1, description="skip rebalances smaller than this share of equity"
    )
    max_position_qty: float | None = Field(
        default=None, gt=0, description="max |position| per symbol in units (shares, contracts)"
    )
    max_order_notional: float | None = Field(
        default=None,
        gt=0,
        description="max |quantity| x price of an order that opens or grows a position "
        "(the limit or stop price, else the last close)",
    )
    price_collar_pct: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="max |limit or stop price / last close - 1|, as a fraction (0.05 = 5%)",
    )
    max_orders_per_minute: int | None = Field(
        default=None, ge=1, description="max orders sent in any trailing 60 seconds"
    )


@dataclass(frozen=True, slots=True)
class ConfigSource:
    """Where a config came from: the file and the line of each dotted field path."""

    file: str
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, path: str) -> int | None:
        """Line of `path` ("params.fast", "universe.1"), or of its nearest parent that has one."""
        parts = path.split(".")
        while parts:
            key = ".".join(parts)
            if key in self.lines:
                return self.lines[key]
            parts.pop()
        return None


class StrategyConfig(BaseModel):
    """A strategy instance: which class, with which params, on which symbols, under which caps."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    class_path: str = Field(alias="class", pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    description: str = ""
    universe: list[str] = Field(min_length=1)
    timeframe: str = "1d"
    params: dict[str, Any] = Field(default_factory=dict)
    signals: SignalThresholds = Field(default_factory=SignalThresholds)
    risk: RiskCaps = Field(default_factory=RiskCaps)
    budget: Decimal | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="capital the strategy may deploy on its account, in the account's currency: "
        "its book starts with it and its gross exposure never grows past it (ADR 0030); "
        "none means the whole account",
    )
    sizing: PositionSizing | None = None
    benchmark: str | None = None
    data: str | None = Field(default=None, description="default data source spec")
    start: date | None = None
    end: date | None = None
    seed: int = 0
    walk_forward: dict[str, Any] | None = None

    _source: ConfigSource | None = PrivateAttr(default=None)
    _overridden: frozenset[str] = PrivateAttr(default=frozenset())

    @field_validator("universe")
    @classmethod
    def _symbols_look_like_tickers(cls, value: list[str]) -> list[str]:
        for symbol in value:
            if not is_valid_symbol(symbol):
                raise ValueError(f"{symbol!r} is not a valid symbol")
        if len(set(value)) != len(value):
            raise ValueError("universe lists a symbol twice")
        return value

    @field_validator("timeframe")
    @classmethod
    def _timeframe_parses(cls, value: str) -> str:
        try:
            Timeframe.parse(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        return value

    @property
    def source_file(self) -> str | None:
        """The YAML file this config was read from, when it was read from one."""
        return None if self._source is None else self._source.file

    def with_source(self, source: ConfigSource) -> StrategyConfig:
        self._source = source
        return self

    @property
    def needed_symbols(self) -> list[str]:
        """The symbols a run reads bars for: the universe, then the benchmark if not among them."""
        extra = [self.benchmark] if self.benchmark and self.benchmark not in self.universe else []
        return [*self.universe, *extra]

    @property
    def file_source(self) -> str:
        """The source spec a run reads when not from the database: `data`, else the samples."""
        return self.data or "samples"

    def reads_database(self, ingested: Collection[str]) -> bool:
        """The queue worker's rule: bars come from the database when every needed symbol was
        ingested there, else from `file_source` (the API checks runs by the same rule)."""
        return set(self.needed_symbols) <= set(ingested)

    @property
    def parsed_timeframe(self) -> Timeframe:
        return Timeframe.parse(self.timeframe)

    def location(self, field_path: str) -> str:
        """Where `field_path` is written ("file:line"; the file alone when the field is not in
        it), or "" for a config built in code."""
        if self._source is None:
            return ""
        line = self._source.line_of(field_path)
        return self._source.file if line is None else f"{self._source.file}:{line}"

    def error(self, field_path: str, message: str) -> ConfigError:
        """A ConfigError pointing at `field_path` in the file this config came from."""
        param = field_path.removeprefix("params.").split(".")[0]
        if field_path.startswith("params.") and param in self._overridden:
            return ConfigError(message, field=f"--set {param}")
        if self._source is None:
            return ConfigError(message, field=field_path)
        return ConfigError(
            message, file=self._source.file, line=self._source.line_of(field_path), field=field_path
        )

    def updated(self, overridden: frozenset[str] = frozenset(), **changes: Any) -> StrategyConfig:
        """A copy with `changes`, keeping the source so later errors still name file and line.

        `overridden` names params set on the command line, so their errors say `--set NAME`.
        """
        copy = self.model_copy(update=changes)
        copy._source = self._source
        copy._overridden = self._overridden | overridden
        return copy
