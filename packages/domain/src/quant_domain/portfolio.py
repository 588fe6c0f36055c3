"""Portfolio state: what a strategy may read about the account, and snapshots for reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from quant_domain.bars import Bar
from quant_domain.sizing import PositionSizing


class PortfolioView(Protocol):
    """Read-only view of the account at the current step (floats for speed; ledger is Decimal)."""

    @property
    def cash(self) -> float: ...

    @property
    def equity(self) -> float: ...

    def position(self, symbol: str) -> float:
        """Signed quantity held in `symbol` (0.0 when flat)."""
        ...

    def price(self, symbol: str) -> float:
        """Last close seen for `symbol`."""
        ...

    def held_symbols(self) -> list[str]:
        """Symbols with a non-zero position."""
        ...

    @property
    def sizing(self) -> PositionSizing:
        """The sizer's configuration, with the costs it reserves for (`expected_costs`)."""
        ...


class MarketState(Protocol):
    """What generate_signals sees: the clock, the latest bar per symbol and the account."""

    @property
    def timestamp(self) -> datetime: ...

    @property
    def bars(self) -> Mapping[str, Bar]: ...

    @property
    def portfolio(self) -> PortfolioView: ...


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """Account value at one step: equity = cash + positions_value."""

    timestamp: datetime
    equity: Decimal
    cash: Decimal
    positions_value: Decimal


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    """A point-in-time copy of the account, for events and storage."""

    timestamp: datetime
    cash: Decimal
    equity: Decimal
    positions: Mapping[str, Decimal]
