"""Trades: round trips from flat to flat (a flip closes one trade and opens the next)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class TradeDirection(StrEnum):
    LONG = "long"
    SHORT = "short"


@dataclass(slots=True)
class Trade:
    """A round trip in one symbol; open while `exit_time` is None.

    `pnl` is net: realised price PnL minus every commission paid on its fills (a fill that
    flips a position shares its commission pro rata between the two trades). A trade still open
    when a run ends carries `mark_price`, the last close it was valued at, and its `gross_pnl`
    then includes the unrealised PnL of what it still holds at that price.
    """

    trade_id: str
    symbol: str
    direction: TradeDirection
    entry_time: datetime
    quantity: Decimal = Decimal(0)
    entry_price: Decimal = Decimal(0)
    exit_time: datetime | None = None
    exit_price: Decimal | None = None
    gross_pnl: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    fill_ids: list[str] = field(default_factory=list)
    bars_held: int = 0
    mark_price: Decimal | None = None
    # excursions per unit, against entry_price, over the bars the trade held (quant_engine
    # excursions.py has the rule): mfe >= 0 is the best move in the trade's favour, mae <= 0
    # the worst against it; None until measured
    mfe: Decimal | None = None
    mae: Decimal | None = None
    # the causal market regime when the trade entered (bull, bear, sideways, high_volatility);
    # None before measured or while the regime feature warms up
    regime: str | None = None

    @property
    def is_open(self) -> bool:
        return self.exit_time is None

    @property
    def pnl(self) -> Decimal:
        return self.gross_pnl - self.commission

    @property
    def return_pct(self) -> float:
        """Net PnL over the capital the entry committed."""
        basis = self.quantity * self.entry_price
        return float(self.pnl / basis) if basis else 0.0

    @property
    def price_move(self) -> Decimal:
        """The exit's (or the mark's) move from entry_price per unit, positive in the trade's
        favour; 0 for an open trade without a mark."""
        end = self.exit_price if self.exit_price is not None else self.mark_price
        if end is None:
            return Decimal(0)
        move = end - self.entry_price
        return move if self.direction is TradeDirection.LONG else -move

    @property
    def given_back(self) -> Decimal | None:
        """Per unit: the price move kept minus the best it reached (<= 0); None before
        excursions are measured. Long at 100, high 105, exit at 102: -3."""
        return None if self.mfe is None else self.price_move - self.mfe

    def excursions(self) -> dict[str, Decimal | float | None]:
        """MFE, MAE and the profit given back, per unit (price), as a fraction of entry_price
        (percent / 100) and in money (per unit x quantity); every value None before measured."""
        per_unit = {"mfe": self.mfe, "mae": self.mae, "given_back": self.given_back}
        result: dict[str, Decimal | float | None] = {}
        for name, value in per_unit.items():
            result[name] = value
            result[f"{name}_pct"] = (
                None if value is None or not self.entry_price else float(value / self.entry_price)
            )
            result[f"{name}_value"] = None if value is None else value * self.quantity
        return result
