"""Options shared by the commands that run strategies, and the BacktestConfig they build.

Each flag is its BacktestConfig field, dashed: `initial_capital` is `--initial-capital`,
`sizing.fraction` is `--sizing-fraction` (ADR 0019). Old spellings (`--capital`, `--commission`,
`--sizing`, `--fraction`, `--quantity`, `--fractional/--whole`) are still accepted, and an error
names the spelling that was typed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import typer
from pydantic import ValidationError

from quant_cli.errors import fail, validation_message
from quant_domain import PositionSizing
from quant_engine import BacktestConfig, FillTiming
from quant_engine.config import CommissionRounding, EngineChoice

# field path -> its flag, then the old spellings still accepted
FLAG_NAMES: dict[str, tuple[str, ...]] = {
    "initial_capital": ("--initial-capital", "--capital"),
    "commission_per_trade": ("--commission-per-trade", "--commission"),
    "commission_bps": ("--commission-bps",),
    "slippage_bps": ("--slippage-bps",),
    "fill_timing": ("--fill-timing",),
    "start": ("--start",),
    "end": ("--end",),
    "sizing": ("--sizing-mode", "--sizing"),
    "sizing.mode": ("--sizing-mode", "--sizing"),
    "sizing.fraction": ("--sizing-fraction", "--fraction"),
    "sizing.quantity": ("--sizing-quantity", "--quantity"),
    "sizing.fractional": ("--sizing-fractional", "--sizing-whole", "--fractional", "--whole"),
    "periods_per_year": ("--periods-per-year",),
    "risk_free_rate": ("--risk-free-rate",),
    "seed": ("--seed",),
    "commission_rounding": ("--commission-rounding",),
    "engine": ("--engine",),
}


def written(names: Sequence[str], argv: Sequence[str] | None = None) -> str:
    """The spelling of an option that was typed (click keeps only the value), else its name."""
    args = sys.argv[1:] if argv is None else argv
    for arg in args:
        for name in names:
            if arg == name or arg.startswith(f"{name}="):
                return name
    return names[0]


def flag(field: str) -> str:
    """The command-line flag of a top-level field: `start` is `--start`."""
    return written(FLAG_NAMES.get(field, (f"--{field.replace('_', '-')}",)))


def flags(argv: Sequence[str] | None = None) -> dict[str, str]:
    """Field path -> the flag as typed, for error messages."""
    return {field: written(names, argv) for field, names in FLAG_NAMES.items()}


# command-line defaults are the engine's own defaults, so every command agrees with BacktestConfig
_ENGINE = BacktestConfig()
DEFAULT_CAPITAL = float(_ENGINE.initial_capital)
DEFAULT_COMMISSION = float(_ENGINE.commission_per_trade)
DEFAULT_COMMISSION_BPS = float(_ENGINE.commission_bps)
DEFAULT_SLIPPAGE_BPS = float(_ENGINE.slippage_bps)

InitialCapitalOption = Annotated[
    float,
    typer.Option(*FLAG_NAMES["initial_capital"], help="starting cash (--capital: old name)"),
]
CommissionPerTradeOption = Annotated[
    float,
    typer.Option(
        *FLAG_NAMES["commission_per_trade"],
        help="commission per fill, in currency (--commission: old name)",
    ),
]
CommissionBpsOption = Annotated[float, typer.Option(help="commission in bps of notional")]
SlippageOption = Annotated[float, typer.Option(help="slippage in bps against the reference price")]
CommissionRoundingOption = Annotated[
    CommissionRounding,
    typer.Option(
        help="cent: each commission billed rounded to the cent, as brokers do; none: exact, "
        "to reproduce engines that do not round (backtesting.py, vectorbt)"
    ),
]
EngineOption = Annotated[
    EngineChoice,
    typer.Option(
        help="auto: the compiled kernel where it gives the event loop's result, else the event "
        "loop; event: always the event loop; compiled: the kernel, or an error saying why not"
    ),
]
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
    commission_rounding: CommissionRounding = CommissionRounding.CENT,
    engine: EngineChoice = EngineChoice.AUTO,
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
            commission_rounding=commission_rounding,
            engine=engine,
        )
    except ValidationError as exc:
        raise fail(validation_message(exc, flags(), "--start/--end")) from None
