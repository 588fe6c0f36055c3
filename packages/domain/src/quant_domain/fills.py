"""Fills: executions of orders, the only way positions change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from quant_domain.orders import OrderSide


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution: `quantity` (> 0) at `price`, costing `commission` (>= 0).

    `slippage` is what the fill cost against the reference price (bar close or open), in money,
    so a report can show how much of the result slippage ate.
    """

    fill_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    quantity: Decimal
    price: Decimal
    commission: Decimal
    timestamp: datetime
    slippage: Decimal = Decimal(0)
    strategy_id: str = ""

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"fill {self.fill_id}: quantity must be > 0")
        if self.price <= 0:
            raise ValueError(f"fill {self.fill_id}: price must be > 0")
        if self.commission < 0:
            raise ValueError(f"fill {self.fill_id}: commission must be >= 0")

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side is OrderSide.BUY else -self.quantity

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price

    @property
    def cash_change(self) -> Decimal:
        """Cash after minus cash before: buys pay notional, sells receive it; fees always cost."""
        return -self.signed_quantity * self.price - self.commission
