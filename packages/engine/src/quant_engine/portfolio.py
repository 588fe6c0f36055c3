"""The read-only portfolio view a strategy gets: the account's floats, never the ledger itself."""

from __future__ import annotations

from quant_domain import PositionSizing
from quant_engine.ledger import Ledger


class PortfolioReader:
    """What a strategy may read about the account (quant_domain.PortfolioView), and nothing more.

    It exposes no way to change cash, positions or orders: the ledger behind it changes only when
    the trading loop applies a fill. `sizing` is the sizer's own configuration, including the
    costs it reserves for, which the mode sets (a backtest from its cost settings, live trading
    from the broker's fee schedule).
    """

    __slots__ = ("__ledger", "held_symbols", "position", "price", "sizing")

    def __init__(self, ledger: Ledger, sizing: PositionSizing) -> None:
        self.__ledger = ledger
        # bound to the ledger's own readers: no extra call per read on the per-bar path
        self.position = ledger.position
        self.price = ledger.price
        self.held_symbols = ledger.held_symbols
        self.sizing = sizing

    @property
    def cash(self) -> float:
        return self.__ledger.cash

    @property
    def equity(self) -> float:
        return self.__ledger.equity
