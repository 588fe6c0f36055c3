"""FakeTws's account at "IB": orders, executions, positions, cash and the prices orders fill at.

Pure state, no I/O: the server (tests/fakes/tws.py) decides what to tell which connection. Orders
keep living across connections and "gateway restarts", as they do at IB's servers; order ids are
per client id, as at IB; permIds are global.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tests.fakes.tws_messages import WireExecution, WireOrder

START_PERM_ID = 1_700_000_001


def commission_for(shares: float) -> float:
    """IB's fixed US stock rate: 0.005 per share, 1.00 at least."""
    return round(max(1.0, 0.005 * shares), 2)


@dataclass(slots=True)
class TwsBook:
    """Everything the fake's account holds; every method runs on the server's event loop."""

    account: str
    cash: float = 100_000.0
    prices: dict[str, float] = field(default_factory=dict)
    orders: list[WireOrder] = field(default_factory=list)
    executions: list[WireExecution] = field(default_factory=list)
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)  # qty, avg cost
    con_ids: dict[str, int] = field(default_factory=dict)
    _perm_id: int = START_PERM_ID
    _exec_seq: int = 0

    def con_id(self, symbol: str) -> int:
        return self.con_ids.setdefault(symbol, 265_598 + 1000 * len(self.con_ids))

    def find(self, client_id: int, order_id: int) -> WireOrder | None:
        for order in self.orders:
            if order.client_id == client_id and order.order_id == order_id:
                return order
        return None

    def new_order(self, client_id: int, order_id: int, fields: list[str]) -> WireOrder:
        """An order from placeOrder's fields (3, orderId, contract(12), secIdType, secId, ...)."""
        symbol = fields[3]
        order = WireOrder(
            order_id=order_id,
            client_id=client_id,
            perm_id=self._perm_id,
            con_id=self.con_id(symbol),
            symbol=symbol,
            action=fields[16],
            quantity=float(fields[17]),
            order_type=fields[18],
            limit_price=float(fields[19]) if fields[19] else None,
            aux_price=float(fields[20]) if fields[20] else None,
            tif=fields[21] or "DAY",
            account=fields[23] or self.account,
            order_ref=fields[26],
        )
        self._perm_id += 1
        self.orders.append(order)
        return order

    def fill_price(self, order: WireOrder) -> float | None:
        """The price `order` trades at now, or None while it cannot trade."""
        price = self.prices.get(order.symbol)
        if price is None or not order.working:
            return None
        buy = order.action == "BUY"
        if order.order_type in ("STP", "STP LMT"):
            stop = order.aux_price or 0.0
            if (buy and price < stop) or (not buy and price > stop):
                return None
        if order.order_type in ("LMT", "STP LMT"):
            limit = order.limit_price or 0.0
            if (buy and price > limit) or (not buy and price < limit):
                return None
        return price

    def execute(self, order: WireOrder, shares: float, price: float) -> WireExecution:
        """One execution of `shares` at `price`: the order, the position and the cash move."""
        self._exec_seq += 1
        exec_id = f"0000{self._exec_seq:04x}.{order.perm_id:08x}.01.01"
        cost = order.avg_price * order.filled + price * shares
        order.filled += shares
        order.avg_price = cost / order.filled
        order.last_price = price
        if order.remaining <= 1e-9:
            order.status = "Filled"
            order.completed_at = datetime.now(UTC)
        else:
            order.status = "Submitted"
        signed = shares if order.action == "BUY" else -shares
        self._move_position(order.symbol, signed, price)
        commission = commission_for(shares)
        self.cash -= signed * price + commission
        execution = WireExecution(
            exec_id=exec_id,
            order=order,
            shares=shares,
            price=price,
            at=datetime.now(UTC),
            cum_qty=order.filled,
            avg_price=order.avg_price,
            commission=commission,
        )
        self.executions.append(execution)
        return execution

    def correct(self, exec_id: str, price: float) -> WireExecution:
        """A correction of `exec_id` at another price: same execId up to its last dot."""
        original = next(e for e in self.executions if e.exec_id == exec_id)
        base, _, suffix = exec_id.rpartition(".")
        corrected = WireExecution(
            exec_id=f"{base}.{int(suffix) + 1:02d}",
            order=original.order,
            shares=original.shares,
            price=price,
            at=original.at,
            cum_qty=original.cum_qty,
            avg_price=original.avg_price,
            commission=original.commission,
        )
        signed = original.shares if original.order.action == "BUY" else -original.shares
        self.cash -= signed * (price - original.price)
        self.executions.append(corrected)
        return corrected

    def cancel(self, order: WireOrder) -> None:
        order.status = "Cancelled"
        order.completed_at = datetime.now(UTC)

    def _move_position(self, symbol: str, signed: float, price: float) -> None:
        quantity, avg = self.positions.get(symbol, (0.0, 0.0))
        new = quantity + signed
        if abs(new) < 1e-9:
            self.positions.pop(symbol, None)
            return
        if quantity == 0 or (quantity > 0) != (new > 0):
            avg = price  # opened, or flipped through zero
        elif abs(new) > abs(quantity):
            avg = (avg * abs(quantity) + price * abs(signed)) / abs(new)
        self.positions[symbol] = (new, avg)

    def values(self) -> dict[str, float]:
        """The account's figures in USD: cash, net liquidation, buying power."""
        marked = sum(
            q * self.prices.get(symbol, avg) for symbol, (q, avg) in self.positions.items()
        )
        equity = self.cash + marked
        return {
            "TotalCashValue": round(self.cash, 2),
            "NetLiquidation": round(equity, 2),
            "BuyingPower": round(max(0.0, equity) * 4, 2),
            "AvailableFunds": round(self.cash, 2),
            "EquityWithLoanValue": round(equity, 2),
            "GrossPositionValue": round(abs(marked), 2),
        }
