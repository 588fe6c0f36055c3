"""Options shared by the commands that run strategies, and the BacktestConfig they build."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import typer
from pydantic import ValidationError

from quant_cli.errors import fail, validation_message
from quant_domain import PositionSizing
from quant_engine import BacktestConfig, FillTiming

FLAGS = {
    "initial_capital": "--capital",
    "commission_per_trade": "--commission",
    "commission_bps": "--commission-bps",
    "slippage_bps": "--slippage-bps",
    "fill_timing": "--fill-timing",
    "start": "--start",
    "end": "--end",
    "sizing": "--sizing",
    "sizing.fraction": "--fraction",
    "sizing.quantity": "--quantity",
    "sizing.fractional": "--fractional",
    "periods_per_year": "--periods-per-year",
    "risk_free_rate": "--risk-free-rate",
    "seed": "--seed",
    "fraction": "--fraction",
    "quantity": "--quantity",
    "mode": "--sizing",
}

# command-line defaults are the engine's own defaults, so every command agrees with BacktestConfig
_ENGINE = BacktestConfig()
DEFAULT_CAPITAL = float(_ENGINE.initial_capital)
DEFAULT_COMMISSION = float(_ENGINE.commission_per_trade)
DEFAULT_COMMISSION_BPS = float(_ENGINE.commission_bps)
DEFAULT_SLIPPAGE_BPS = float(_ENGINE.slippage_bps)

CapitalOption = Annotated[float, typer.Option(help="initial capital")]
CommissionOption = Annotated[float, typer.Option(help="commission per trade")]
CommissionBpsOption = Annotated[float, typer.Option(help="commission in bps of notional")]
SlippageOption = Annotated[float, typer.Option(help="slippage in bps against the reference price")]
FillTimingOption = Annotated[
    FillTiming, typer.Option(help="market orders fill at the bar close or the next open")
]


def make_backtest_config(
    *,
    capital: float = DEFAULT_CAPITAL,
    commission: float = DEFAULT_COMMISSION,
    commission_bps: float = DEFAULT_COMMISSION_BPS,
    slippage_bps: float = DEFAULT_SLIPPAGE_BPS,
    fill_timing: FillTiming,
    start: datetime | None,
    end: datetime | None,
    seed: int,
    sizing: PositionSizing | None = None,
    periods_per_year: float | None = None,
    risk_free_rate: float = 0.0,
) -> BacktestConfig:
    """A validated BacktestConfig; a bad value ends the command naming its flag (exit 2)."""
    try:
        return BacktestConfig(
            initial_capital=Decimal(str(capital)),
            commission_per_trade=Decimal(str(commission)),
            commission_bps=Decimal(str(commission_bps)),
            slippage_bps=Decimal(str(slippage_bps)),
            fill_timing=fill_timing,
            start=start.date() if start else None,
            end=end.date() if end else None,
            sizing=sizing or PositionSizing(),
            seed=seed,
            periods_per_year=periods_per_year,
            risk_free_rate=risk_free_rate,
        )
    except ValidationError as exc:
        raise fail(validation_message(exc, FLAGS, "--start/--end")) from None
