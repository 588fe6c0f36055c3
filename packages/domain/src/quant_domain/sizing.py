"""Position sizing and trading costs: account-level settings a strategy's risk_check reads."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

FRACTION_STEP = Decimal("0.000001")
"""Smallest quantity step when fractional units are allowed; sized quantities round down to it."""


class SizingMode(StrEnum):
    FRACTION = "fraction"
    FIXED = "fixed"


class CostModel(BaseModel):
    """Commission per fill plus an optional share of notional, and slippage against the reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commission_per_trade: Decimal = Field(default=Decimal("1.00"), ge=0)
    commission_bps: Decimal = Field(default=Decimal(0), ge=0)
    slippage_bps: Decimal = Field(default=Decimal(10), ge=0, lt=10000)

    def commission(self, notional: Decimal) -> Decimal:
        return self.commission_per_trade + abs(notional) * self.commission_bps / Decimal(10000)

    def worst_price(self, price: float, buying: bool) -> float:
        """Price after slippage, as a float estimate for sizing."""
        bump = float(self.slippage_bps) / 10000.0
        return price * (1.0 + bump) if buying else price * (1.0 - bump)


class PositionSizing(BaseModel):
    """How big a full-strength signal is: a fraction of equity or a fixed quantity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: SizingMode = SizingMode.FRACTION
    fraction: float = Field(default=1.0, gt=0, le=10, description="share of equity per full signal")
    quantity: Decimal = Field(
        default=Decimal(100), gt=0, description="units per full signal (fixed)"
    )
    fractional: bool = Field(default=False, description="allow fractional units; else whole units")
    expected_costs: CostModel | None = Field(
        default=None,
        description=(
            "commission and slippage the sizer reserves for in a full-size buy; unset, a backtest"
            " uses its own cost settings and live trading the broker's fee schedule"
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> PositionSizing:
        if self.mode is SizingMode.FIXED and not self.fractional and self.quantity % 1 != 0:
            raise ValueError("fixed quantity must be whole when fractional is false")
        return self
