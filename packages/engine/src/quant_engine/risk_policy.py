"""The account's risk policy: limits and breakers from `configs/risk/*.yaml`, with file and line."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from quant_domain import ConfigError
from quant_domain.errors import first_validation_error
from quant_engine.risk_gate import NO_NEW_POSITIONS, RiskGate
from quant_strategy.config import RiskCaps, StrategyConfig
from quant_strategy.yaml_reader import read_config_file, read_yaml

Calendar = Literal[
    "XNYS", "XNAS", "XLON", "XPAR", "XFRA", "XSWX", "XTSE", "XASX", "XTKS", "XHKG", "CMES", "24H"
]
"""Calendars a policy may name (exchange-calendars codes; `24H`: every UTC day is a session)."""

StrategyKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
"""A strategy id, spelled as strategy configs spell theirs."""


class AccountLimits(BaseModel):
    """Account-level limits; the bounds are the seed's ranges, so a policy stays within them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_risk_per_trade: float = Field(
        default=0.01,
        ge=0.005,
        le=0.02,
        description="the most one position may lose, as a share of equity, if the price moves "
        "`stop_distance` against it: caps a position at max_risk_per_trade / stop_distance",
    )
    stop_distance: float = Field(
        default=0.05,
        gt=0,
        le=0.5,
        description="the adverse move (a share of the price) a position's risk is measured at",
    )
    max_capital_deployed: float = Field(
        default=0.8, ge=0.5, le=0.8, description="max gross exposure as a share of equity"
    )
    max_positions: int = Field(default=10, ge=5, le=15, description="max symbols held at once")
    daily_loss_limit: float = Field(
        default=0.02,
        ge=0.01,
        le=0.03,
        description="a loss of this share of the session's opening equity switches the account "
        "to reduce_only until the next session (or an admin's re-arm)",
    )
    max_drawdown: float = Field(
        default=0.10,
        ge=0.05,
        le=0.12,
        description="a peak-to-trough drawdown of this share latches flatten_and_halt until an "
        "admin re-arms",
    )
    calendar: Calendar = Field(
        default="XNYS",
        description="the exchange calendar whose sessions the daily loss is measured over "
        "(`24H`: UTC days)",
    )

    @property
    def max_position_pct(self) -> float:
        """The per-symbol cap (a share of equity) that max_risk_per_trade implies."""
        return self.max_risk_per_trade / self.stop_distance


class StrategyLimits(BaseModel):
    """One strategy's budget and caps under the policy; each tightens, never loosens, its config."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget: Decimal | None = Field(
        default=None, gt=0, allow_inf_nan=False, description="the most capital it may deploy"
    )
    max_capital_deployed: float | None = Field(default=None, gt=0, le=1)
    max_position_pct: float | None = Field(default=None, gt=0, le=1)
    max_positions: int | None = Field(default=None, ge=1)


class RiskPolicy(BaseModel):
    """The policy in force: account limits, breakers, and per-strategy budgets and caps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: AccountLimits = Field(default_factory=AccountLimits)
    strategies: dict[StrategyKey, StrategyLimits] = Field(default_factory=dict)

    def positions_share(self, share: float = 1.0) -> int:
        """A book's part of the account's max_positions: floor(max_positions x share), where
        `share` is the book's budget over the account's capital (1: the book is the account).

        Budgets add up to at most the capital (ADR 0030), so the parts of every book on one
        account add up to at most max_positions: the account's limit holds across strategies
        while each book decides alone, as its backtest does (ADR 0043).
        """
        share = min(max(share, 0.0), 1.0)
        return math.floor(self.account.max_positions * share + 1e-9)

    def caps_for(self, strategy_id: str, caps: RiskCaps, share: float = 1.0) -> RiskCaps:
        """`caps` tightened by the account's limits and the strategy's own under this policy;
        `share` is the book's part of the account (see `positions_share`).

        Raises:
            ConfigError: the book's part of max_positions is 0 (its budget is too small).
        """
        own = self.strategies.get(strategy_id, StrategyLimits())
        account = self.account
        pct = min(caps.max_position_pct, account.max_position_pct)
        gross = min(caps.max_gross_exposure, account.max_capital_deployed)
        part = self.positions_share(share)
        if part == 0:
            raise ConfigError(
                f"its budget is {share:.1%} of the account: too small a share for one of the "
                f"account's max_positions ({account.max_positions}); give it a budget of at "
                f"least 1/{account.max_positions} of the capital",
                field=f"strategies.{strategy_id}",
            )
        positions = min(caps.max_positions or part, part)
        if own.max_position_pct is not None:
            pct = min(pct, own.max_position_pct)
        if own.max_capital_deployed is not None:
            gross = min(gross, own.max_capital_deployed)
        if own.max_positions is not None:
            positions = min(positions, own.max_positions)
        return caps.model_copy(
            update={
                "max_position_pct": pct,
                "max_gross_exposure": gross,
                "max_positions": positions,
            }
        )

    def applied_to(self, config: StrategyConfig, share: float = 1.0) -> StrategyConfig:
        """`config` with its caps and budget tightened by this policy (what its session and a
        backtest with the policy trade under); `share` as in `caps_for`."""
        return config.updated(
            risk=self.caps_for(config.id, config.risk, share),
            budget=self.budget_for(config.id, config.budget),
        )

    def tighten(self, gate: RiskGate, config: StrategyConfig, share: float = 1.0) -> None:
        """Make `gate` (built from `config`'s own caps) enforce this policy from its next check;
        a book whose part of max_positions became 0 opens no new position (fail closed)."""
        try:
            applied = self.applied_to(config, share)
            positions = applied.risk.max_positions or 0
        except ConfigError:
            applied = self.applied_to(config)
            positions = NO_NEW_POSITIONS
        risk = applied.risk
        gate.tighten(
            risk.max_position_pct,
            risk.max_gross_exposure,
            positions,
            math.inf if applied.budget is None else float(applied.budget),
        )

    def budget_for(self, strategy_id: str, budget: Decimal | None) -> Decimal | None:
        """The smaller of the strategy config's budget and the policy's (None: no cap)."""
        own = self.strategies.get(strategy_id)
        if own is None or own.budget is None:
            return budget
        return own.budget if budget is None else min(budget, own.budget)


def _line_map(node: yaml.Node, prefix: str, out: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            out[key] = key_node.start_mark.line + 1
            _line_map(value_node, key, out)


def _line_of(lines: dict[str, int], path: str) -> int:
    parts = path.split(".")
    while parts:
        line = lines.get(".".join(parts))
        if line is not None:
            return line
        parts.pop()
    return 1


def validate_policy(
    data: Any, file: str | None = None, lines: dict[str, int] | None = None
) -> RiskPolicy:
    """`data` (a mapping) as a RiskPolicy; one ConfigError naming the field (and file, line)."""
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping with `account` and `strategies`", file=file, line=1)
    try:
        return RiskPolicy.model_validate(data)
    except ValidationError as exc:
        path, message = first_validation_error(exc, unknown="unknown field (check the spelling)")
        path = path or "(top level)"
        line = None if file is None else _line_of(lines or {}, path)
        raise ConfigError(message, file=file, line=line, field=path) from None


def parse_risk_policy(text: str, file: str) -> RiskPolicy:
    """Validate YAML `text` as a RiskPolicy; `file` is named in every error."""
    document = read_yaml(text, file)
    lines: dict[str, int] = {}
    if document.root is not None:
        _line_map(document.root, "", lines)
    return validate_policy(document.data, file, lines)


def load_risk_policy(path: str | Path) -> RiskPolicy:
    """Read and validate a risk policy YAML file (ConfigError with file, line and field)."""
    return parse_risk_policy(read_config_file(path, "risk policy"), str(path))
