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
