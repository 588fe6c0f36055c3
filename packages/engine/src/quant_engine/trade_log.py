"""Builds round-trip trades from fills: a trade runs from flat to flat, a flip starts a new one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

from quant_domain import Fill, Position, Trade, TradeDirection, to_cents


class TradeLog:
    """Feed it every fill with the position before it; it keeps open and closed trades.

    `entry_price` is the average price of every entry fill and `exit_price` of every exit fill;
    `gross_pnl` is the sum of what the position realised (average-cost basis), so the trades'
    net PnL always adds up to the change in cash.
    """

    def __init__(self, *, cents: bool = True) -> None:
        """`cents`: a fill's commission split between the trade it closes and the one it opens
        is rounded to the cent (commissions billed in cents), else kept exact."""
        self._share: Callable[[Decimal], Decimal] = to_cents if cents else Decimal.__pos__
        self.closed: list[Trade] = []
        self._open: dict[str, Trade] = {}
        self._entry_step: dict[str, int] = {}
        self._exit_qty: dict[str, Decimal] = {}
        self._exit_value: dict[str, Decimal] = {}
        self._count = 0

    def _start(self, fill: Fill, qty: Decimal, commission: Decimal, step: int, long: bool) -> None:
        self._count += 1
        trade = Trade(
            trade_id=f"t-{self._count}",
            symbol=fill.symbol,
            direction=TradeDirection.LONG if long else TradeDirection.SHORT,
            entry_time=fill.timestamp,
            quantity=qty,
            entry_price=fill.price,
            commission=commission,
            fill_ids=[fill.fill_id],
        )
        self._open[fill.symbol] = trade
        self._entry_step[fill.symbol] = step
        self._exit_qty[fill.symbol] = Decimal(0)
        self._exit_value[fill.symbol] = Decimal(0)

    def on_fill(self, fill: Fill, position_before: Decimal, realized: Decimal, step: int) -> None:
        """Book `fill`; `realized` is the gross PnL the position computed for it (average cost)."""
        delta = fill.signed_quantity
        symbol = fill.symbol
        trade = self._open.get(symbol)
        if trade is None or position_before == 0:
            self._start(fill, fill.quantity, fill.commission, step, delta > 0)
            return
        if (position_before > 0) == (delta > 0):
            total = trade.quantity + fill.quantity
            trade.entry_price = (trade.quantity * trade.entry_price + fill.notional) / total
            trade.quantity = total
            trade.commission += fill.commission
            trade.fill_ids.append(fill.fill_id)
            return
        closing = min(fill.quantity, abs(position_before))
        close_fee = (
            fill.commission
            if closing == fill.quantity
            else self._share(fill.commission * closing / fill.quantity)
        )
        trade.gross_pnl += realized
        trade.commission += close_fee
        trade.fill_ids.append(fill.fill_id)
        self._exit_qty[symbol] += closing
        self._exit_value[symbol] += closing * fill.price
        after = position_before + delta
        if after == 0 or (after > 0) != (position_before > 0):
            self._finish(trade, fill.timestamp, step)
            if after != 0:
                self._start(fill, abs(after), fill.commission - close_fee, step, after > 0)

    def _finish(self, trade: Trade, at: datetime, step: int) -> None:
        symbol = trade.symbol
        trade.exit_time = at
        trade.exit_price = self._exit_value[symbol] / self._exit_qty[symbol]
        trade.bars_held = step - self._entry_step[symbol]
        self.closed.append(trade)
        del self._open[symbol]

    def open_trades(
        self, step: int, positions: Mapping[str, Position], marks: Mapping[str, Decimal]
    ) -> list[Trade]:
        """Copies of the trades still open, valued at `marks` (each symbol's last close).

        Each copy has bars_held counted up to `step`, `mark_price` set, and the unrealised PnL
        of the position it still holds (quantity x (mark - average cost)) added to what it
        realised so far, so closed and open trades together add up to the change in equity.
        The log's own trades are not touched: the run may go on and close them later.
        """
        result = []
        for symbol, trade in self._open.items():
            position = positions[symbol]
            mark = marks[symbol]
            unrealised = position.quantity * (mark - position.avg_price)
            result.append(
                dataclasses.replace(
                    trade,
                    gross_pnl=trade.gross_pnl + unrealised,
                    fill_ids=list(trade.fill_ids),
                    bars_held=step - self._entry_step[symbol],
                    mark_price=mark,
                )
            )
        return result
