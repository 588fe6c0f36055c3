"""BacktestConfig: capital, costs, fill timing, dates and sizing for one simulated run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quant_domain import CostModel, PositionSizing, to_cents


class FillTiming(StrEnum):
    """When a market order fills: at the close of the bar that triggered it, or the next open."""

    CLOSE = "close"
    NEXT_OPEN = "next_open"


class CommissionRounding(StrEnum):
    """How each commission is billed: rounded half-up to the cent (what brokers do), or exact
    (what backtesting.py and vectorbt do, to reproduce their results to the cent)."""

    CENT = "cent"
    NONE = "none"


class EngineChoice(StrEnum):
    """Which path runs a backtest: auto (the compiled kernel where it gives the event loop's
    result, ADR 0006), the event loop always, or the compiled kernel (an error where it cannot)."""

    AUTO = "auto"
    EVENT = "event"
    COMPILED = "compiled"


OLD_NAMES = {"capital": "initial_capital", "commission": "commission_per_trade"}
"""Earlier spellings of BacktestConfig fields that clients still send (ADR 0019): the field names
below are the one name of each setting in YAML, stored runs, the API body and (dashed) the CLI."""


class BacktestConfig(BaseModel):
    """Everything about a simulated run that is not the strategy itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    initial_capital: Decimal = Field(default=Decimal(100_000), gt=0)
    commission_per_trade: Decimal = Field(default=Decimal("1.00"), ge=0)
    commission_bps: Decimal = Field(default=Decimal(0), ge=0, le=1000)
    slippage_bps: Decimal = Field(default=Decimal(10), ge=0, le=1000)
    fill_timing: FillTiming = FillTiming.CLOSE
    start: date | None = None
    end: date | None = None
    sizing: PositionSizing = Field(default_factory=PositionSizing)
    allow_margin: bool = Field(default=False, description="let buys take cash below zero")
    periods_per_year: float | None = Field(default=None, gt=0, description="inferred when None")
    risk_free_rate: float = Field(default=0.0, ge=-0.5, le=1.0, description="annual, for Sharpe")
    seed: int = 0
    warmup_bars: int = Field(
        default=0,
        ge=0,
        le=100_000,
        description="bars before start fed to the strategy, never traded",
    )
    liquidate_at_end: bool = Field(
        default=False, description="close every position at the last bar's close, with costs"
    )
    commission_rounding: CommissionRounding = Field(
        default=CommissionRounding.CENT,
        description="cent: each commission billed rounded half-up to the cent, as brokers do; "
        "none: billed exact, as engines that do not round (backtesting.py, vectorbt)",
    )

    engine: EngineChoice = Field(
        default=EngineChoice.AUTO,
        description="auto: the compiled kernel when it can take the strategy and config, else "
        "the event loop; event: always the event loop; compiled: the kernel or an error saying why",
    )

    @model_validator(mode="after")
    def _dates_ordered(self) -> BacktestConfig:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"start ({self.start}) is after end ({self.end})")
        return self

    @property
    def sized_with_costs(self) -> PositionSizing:
        """The sizing a run's sizer uses: its expected costs are this run's own cost settings
        unless the sizing names others (ADR 0023)."""
        if self.sizing.expected_costs is not None:
            return self.sizing
        return self.sizing.model_copy(update={"expected_costs": self.costs})

    @property
    def cents(self) -> bool:
        """Whether commissions are billed in whole cents."""
        return self.commission_rounding is CommissionRounding.CENT

    def bill(self, notional: Decimal) -> Decimal:
        """The commission billed on a fill of `notional`, rounded as this run says."""
        commission = self.costs.commission(notional)
        return to_cents(commission) if self.cents else commission

    @property
    def costs(self) -> CostModel:
        return CostModel(
            commission_per_trade=self.commission_per_trade,
            commission_bps=self.commission_bps,
            slippage_bps=self.slippage_bps,
        )
