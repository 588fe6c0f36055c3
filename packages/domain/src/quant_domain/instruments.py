"""Instruments: what a symbol refers to, and the price and quantity grid it trades on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from quant_domain.orders import OrderSide

_SYMBOL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_/^=]{0,31}$")

US_EQUITY_TICK = Decimal("0.01")
"""The minimum price increment of US equities quoted at $1 or more (Reg NMS rule 612).

Below $1 the rule allows $0.0001; rounding a sub-dollar price to a cent is still legal, only
coarser, and the direction rule below keeps it from getting more aggressive."""

PriceKind = Literal["limit", "stop"]


class AssetClass(StrEnum):
    EQUITY = "equity"
    INDEX = "index"
    FX = "fx"
    CRYPTO = "crypto"
    FUTURE = "future"
    SYNTHETIC = "synthetic"


def is_valid_symbol(symbol: str) -> bool:
    """True when `symbol` looks like a ticker (letters, digits and . - _ / ^ =)."""
    return bool(_SYMBOL_RE.match(symbol))


def _positive(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value > 0


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable thing: its symbol, asset class, quote currency and trading calendar.

    `tick_size` is the price increment orders must respect (None: any price, as for synthetic
    data); `lot_size` the quantity increment; `shortable` whether it may be sold short at all.
    """

    symbol: str
    asset_class: AssetClass = AssetClass.EQUITY
    currency: str = "USD"
    calendar: str | None = "XNYS"
    description: str = ""
    tick_size: Decimal | None = None
    lot_size: Decimal = Decimal(1)
    shortable: bool = True

    def __post_init__(self) -> None:
        if not is_valid_symbol(self.symbol):
            raise ValueError(f"invalid symbol {self.symbol!r}")
        if self.tick_size is not None and not _positive(self.tick_size):
            raise ValueError(
                f"instrument {self.symbol}: tick_size must be a Decimal > 0 or None, "
                f"got {self.tick_size!r}"
            )
        if not _positive(self.lot_size):
            raise ValueError(
                f"instrument {self.symbol}: lot_size must be a Decimal > 0, got {self.lot_size!r}"
            )

    def round_price(self, price: Decimal, side: OrderSide, kind: PriceKind) -> Decimal:
        """`price` on this instrument's tick, never more aggressive (see `round_to_tick`)."""
        return round_to_tick(price, self.tick_size, side, kind)

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """`quantity` down to a whole number of lots (see `round_to_lot`)."""
        return round_to_lot(quantity, self.lot_size)


def round_to_tick(
    price: Decimal, tick: Decimal | None, side: OrderSide, kind: PriceKind
) -> Decimal:
    """Round a limit or stop price to a multiple of `tick` in the direction that makes the
    order no more aggressive than asked.

    Limit prices move away from the market: a buy limit rounds down (pay no more than asked), a
    sell limit rounds up (take no less). Stop prices move away from triggering: a buy stop rounds
    up and a sell stop rounds down, so the stop fires no earlier than asked. A price already on
    the tick, or `tick` None, comes back unchanged. Raises ValueError when `price` is not
    positive or a buy limit or sell stop would round to zero.
    """
    if not _positive(price):
        raise ValueError(f"{kind} price must be a Decimal > 0, got {price!r}")
    if tick is None:
        return price
    if not _positive(tick):
        raise ValueError(f"tick must be a Decimal > 0, got {tick!r}")
    below = price % tick  # exact for Decimal; >= 0 because price > 0
    if not below:
        return price
    up = (side is OrderSide.BUY) == (kind == "stop")
    rounded = (price - below + tick if up else price - below).quantize(tick)
    if rounded <= 0:
        raise ValueError(f"{side.value} {kind} price {price} rounds to 0 at tick {tick}")
    return rounded


def round_to_lot(quantity: Decimal, lot: Decimal) -> Decimal:
    """`quantity` rounded toward zero to a multiple of `lot`: never trade more than asked.

    Works on signed quantities (the sign is kept); the result may be 0, which the caller reads
    as "too small to trade".
    """
    if not isinstance(quantity, Decimal) or not quantity.is_finite():
        raise ValueError(f"quantity must be a finite Decimal, got {quantity!r}")
    if not _positive(lot):
        raise ValueError(f"lot must be a Decimal > 0, got {lot!r}")
    size = abs(quantity)
    below = size % lot
    if not below:
        return quantity
    rounded = (size - below).quantize(lot)
    return rounded if quantity > 0 or not rounded else -rounded
