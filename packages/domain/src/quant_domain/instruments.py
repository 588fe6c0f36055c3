"""Instruments: what a symbol refers to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_SYMBOL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_/^=]{0,31}$")


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


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable thing: its symbol, asset class, quote currency and trading calendar."""

    symbol: str
    asset_class: AssetClass = AssetClass.EQUITY
    currency: str = "USD"
    calendar: str | None = "XNYS"
    description: str = ""

    def __post_init__(self) -> None:
        if not is_valid_symbol(self.symbol):
            raise ValueError(f"invalid symbol {self.symbol!r}")
