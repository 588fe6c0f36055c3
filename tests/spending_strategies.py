"""A strategy that keeps asking for more than its budget, for the budget's tests."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from quant_domain import Bar, MarketState, Order, OrderSide, PortfolioView, Signal, SignalDirection
from quant_strategy import Strategy, StrategyParams


class LadderParams(StrategyParams):
    units: int = Field(default=5, ge=1, description="units bought at each rung")
    every: int = Field(default=5, ge=1, description="bars between rungs")
    sell_every: int = Field(default=60, ge=1, description="bars between selling everything")


class Ladder(Strategy[LadderParams]):
    """Buys `units` of its first symbol every `every` bars and sells everything every
    `sell_every` bars; its own risk_check sizes nothing down, so only the gate holds it."""

    params_model = LadderParams

    def on_start(self) -> None:
        self.bars = 0

    def on_market_data(self, bar: Bar) -> None:
        del bar
        self.bars += 1

    def generate_signals(self, state: MarketState) -> list[Signal]:
        symbol = self.symbols[0]
        if self.bars % self.params.sell_every == 0:
            return [Signal(symbol, SignalDirection.FLAT, state.timestamp)]
        if self.bars % self.params.every == 0:
            return [Signal(symbol, SignalDirection.LONG, state.timestamp)]
        return []

    def risk_check(self, signals: list[Signal], portfolio: PortfolioView) -> list[Order]:
        orders = []
        for signal in signals:
            held = Decimal(str(portfolio.position(signal.symbol)))
            if signal.direction is SignalDirection.FLAT:
                side, quantity = OrderSide.SELL, held
            else:
                side, quantity = OrderSide.BUY, Decimal(self.params.units)
            if quantity > 0:
                orders.append(
                    Order(
                        signal.symbol,
                        side,
                        quantity,
                        strategy_id=self.id,
                        created_at=signal.timestamp,
                    )
                )
        return orders
