"""The engine's pre-trade risk gate: every order passes it after sizing and before any broker.

The gate is owned by the engine, built from the strategy's RiskCaps when the engine is set up,
and is not a Strategy method, so no strategy can skip or override it. `check` is the order path:
plain floats, limits precomputed here, no logging, Decimal, pydantic, metrics, I/O or containers
built per call. It returns an integer reason (0 passes); `message` turns a reason into words off
the order path.

Rules, in the order `check` applies them (the first that fails is the reason):
kill-switch mode, market hours, price collar, then for an order that opens, grows or flips a
position: the live feed's hold on its symbol (`EntryHold`, set only by a session trading a live
feed: ADR 0041), shorting, per-symbol cap in units and in % of equity, gross exposure (in % of equity,
then against the strategy's capital budget), open positions, order notional; last the order rate. A *reduction* (the position, counting orders already sent,
gets smaller without changing side) passes every exposure rule and the halt_entries and
reduce_only modes; flatten_and_halt refuses everything (the engine's own closing orders do not
come through `check`).
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import IntEnum
from typing import Protocol

from quant_domain import KillSwitchMode
from quant_strategy.config import RiskCaps

WINDOW_S = 60.0
"""The order-rate window: max_orders_per_minute counts orders sent in the trailing 60 seconds."""

REL_TOL = 1e-9
ABS_TOL = 0.01
"""A cap holds within REL_TOL of the limit plus one cent: the sizer may target a cap exactly, and
neither float rounding nor its rounding of a reduction down to the quantity step (which leaves
up to 1e-6 units per symbol above the planned target) may turn that into a rejection."""

NO_NEW_POSITIONS = -1
"""A max_positions that refuses every order opening a position (0 means no cap): a book whose
part of the account's max_positions became 0 under a new risk policy (ADR 0043)."""

_DECIMALS = 9
"""Pending quantities are kept rounded to this many decimals, so an order that closes a position
leaves exactly 0.0 (quantities come from Decimals with at most this many places)."""


class Reason(IntEnum):
    """Why `RiskGate.check` refused an order; the values are stable and 0 means it passed."""

    OK = 0
    SHORT_NOT_ALLOWED = 1
    POSITION_QTY_CAP = 2
    POSITION_PCT_CAP = 3
    GROSS_EXPOSURE_CAP = 4
    MAX_OPEN_POSITIONS = 5
    ORDER_NOTIONAL_CAP = 6
    PRICE_COLLAR = 7
    ORDER_RATE = 8
    MARKET_CLOSED = 9
    HALT_ENTRIES = 10
    REDUCE_ONLY = 11
    FLATTEN_AND_HALT = 12
    RECONCILIATION_PENDING = 13
    BUDGET_CAP = 14
    FEED_STALE = 15


def reason_name(code: int) -> str:
    """The stable name of a reason code, e.g. 1 -> "SHORT_NOT_ALLOWED"."""
    return Reason(code).name


# int copies of the reasons: `check` returns these (an IntEnum member costs an attribute lookup)
_OK = 0
_SHORT = int(Reason.SHORT_NOT_ALLOWED)
_QTY = int(Reason.POSITION_QTY_CAP)
_PCT = int(Reason.POSITION_PCT_CAP)
_GROSS = int(Reason.GROSS_EXPOSURE_CAP)
_OPEN = int(Reason.MAX_OPEN_POSITIONS)
_NOTIONAL = int(Reason.ORDER_NOTIONAL_CAP)
_COLLAR = int(Reason.PRICE_COLLAR)
_RATE = int(Reason.ORDER_RATE)
_CLOSED = int(Reason.MARKET_CLOSED)
_HALTED = int(Reason.HALT_ENTRIES)
_REDUCING = int(Reason.REDUCE_ONLY)
_FLATTEN = int(Reason.FLATTEN_AND_HALT)
_RECONCILING = int(Reason.RECONCILIATION_PENDING)
_BUDGET = int(Reason.BUDGET_CAP)
_STALE = int(Reason.FEED_STALE)

_MODE_CODES = {
    KillSwitchMode.ACTIVE: 0,
    KillSwitchMode.HALT_ENTRIES: 1,
    KillSwitchMode.REDUCE_ONLY: 2,
    KillSwitchMode.FLATTEN_AND_HALT: 3,
}
_MODES = {code: mode for mode, code in _MODE_CODES.items()}
_INF = math.inf


@dataclass(frozen=True, slots=True)
class GateLimits:
    """The caps as plain numbers, one entry per symbol index where a cap is per symbol.

    A cap that is off is math.inf (or 0 for the two counts), so the gate needs no None checks.
    `budget` is the strategy's capital budget (money): the most its gross exposure may reach.
    """

    symbols: tuple[str, ...]
    can_short: tuple[bool, ...]
    allow_short: bool
    max_position_qty: float
    max_position_pct: float
    max_gross_exposure: float
    max_positions: int
    max_order_notional: float
    price_collar_pct: float
    max_orders_per_minute: int
    budget: float = _INF

    @classmethod
    def from_caps(
        cls,
        risk: RiskCaps,
        symbols: list[str],
        shortable: list[bool] | None = None,
        budget: Decimal | None = None,
    ) -> GateLimits:
        """Limits for `symbols` (the ledger's symbol order) under a strategy's RiskCaps.

        `shortable[k]` says whether symbol k may be sold short at all (the instrument's flag);
        None means every symbol may, so only risk.allow_short decides. `budget` is the
        strategy config's capital budget (None: no cap beyond the % of equity ones).
        """
        if shortable is None:
            shortable = [True] * len(symbols)
        if len(shortable) != len(symbols):
            raise ValueError(
                f"shortable has {len(shortable)} flags for {len(symbols)} symbols; "
                "give one per symbol, in the same order"
            )
        return cls(
            symbols=tuple(symbols),
            can_short=tuple(risk.allow_short and flag for flag in shortable),
            allow_short=risk.allow_short,
            max_position_qty=_INF if risk.max_position_qty is None else risk.max_position_qty,
            max_position_pct=risk.max_position_pct,
            max_gross_exposure=risk.max_gross_exposure,
            max_positions=risk.max_positions or 0,
            max_order_notional=_INF if risk.max_order_notional is None else risk.max_order_notional,
            price_collar_pct=_INF if risk.price_collar_pct is None else risk.price_collar_pct,
            max_orders_per_minute=risk.max_orders_per_minute or 0,
            budget=_INF if budget is None else float(budget),
        )


def _units(x: float) -> str:
    if x == int(x):
        return f"{x:,.0f}"
    return f"{x:,.6f}".rstrip("0")


def _share(value: float, equity: float) -> str:
    return f"{value / equity:.1%}" if equity > 0 else "more than all (equity is not positive)"


def _cap_pct(x: float) -> str:
    return f"{x * 100:g}%"


class EntryHold(Protocol):
    """Which symbols may not take a new entry now because their live data went quiet.

    The execution service sets one on the gate of a session that trades a live feed; a
    backtest's gate has none. `holds` is asked on the order path, only for an order that opens,
    grows or flips a position; `why` off it, for the refusal's message."""

    def holds(self, k: int) -> bool:
        """True when symbol index k may not take a new entry in the current step."""
        ...

    def why(self, k: int) -> str:
        """Why symbol index k is held (the feed, its state, since when)."""
        ...


class RiskGate:
    """Pre-trade check over the ledger's live float mirrors plus the quantities sent but unfilled.

    `qty`, `last` and `held` are the ledger's own lists (mutated in place by it): the signed
    position and last close per symbol index, and the indexes with a non-zero position. The
    caller reports each order it sends (`accepted`), each fill of one (`filled`) and each end
    with a quantity unfilled (`released`), so an order counts against the caps from the moment
    it is sent.
    """

    __slots__ = (
        "_base",
        "_blocked",
        "_budget",
        "_can_short",
        "_collar",
        "_collar_on",
        "_fresh_at",
        "_gross",
        "_gross_total",
        "_held",
        "_last",
        "_max_positions",
        "_mode",
        "_notional",
        "_pct",
        "_pending",
        "_pending_idx",
        "_qty",
        "_qty_cap",
        "_rate",
        "_ring",
        "_ring_at",
        "_stale",
        "limits",
    )

    def __init__(
        self, limits: GateLimits, qty: list[float], last: list[float], held: list[int]
    ) -> None:
        m = len(limits.symbols)
        if not len(qty) == len(last) == m:
            raise ValueError(
                f"qty has {len(qty)} and last {len(last)} entries for {m} symbols in the limits"
            )
        self._base = limits  # the strategy's own caps: a policy tightens from these
        self._qty = qty
        self._last = last
        self._held = held
        self._pending = [0.0] * m
        self._pending_idx: list[int] = []
        self._can_short = list(limits.can_short)
        self._set_caps(limits)
        self._rate = limits.max_orders_per_minute
        # send times of the last max_orders_per_minute orders; the slot at _ring_at is the oldest
        self._ring = array("d", [-_INF] * max(self._rate, 1))
        self._ring_at = 0
        self._mode = 0
        self._blocked = False
        self._stale: EntryHold | None = None
        # sum over symbols of |position + pending| x last close, as of `_fresh_at` (see refresh)
        self._gross_total = 0.0
        self._fresh_at = math.nan

    def _set_caps(self, limits: GateLimits) -> None:
        grow = 1.0 + REL_TOL
        self.limits = limits
        self._qty_cap = limits.max_position_qty * grow
        self._pct = limits.max_position_pct * grow
        self._gross = limits.max_gross_exposure * grow
        self._budget = limits.budget * grow + ABS_TOL
        self._max_positions = limits.max_positions
        self._notional = limits.max_order_notional * grow
        self._collar = limits.price_collar_pct * grow
        self._collar_on = limits.price_collar_pct != _INF

    def tighten(
        self, max_position_pct: float, max_gross_exposure: float, max_positions: int, budget: float
    ) -> None:
        """Enforce these caps from the next check on (a new risk policy: ADR 0038), each no
        looser than `base`'s; the orders sent and their rate window are kept."""
        base = self._base
        self._set_caps(
            replace(
                base,
                max_position_pct=min(base.max_position_pct, max_position_pct),
                max_gross_exposure=min(base.max_gross_exposure, max_gross_exposure),
                max_positions=min(base.max_positions or max_positions, max_positions),
                budget=min(base.budget, budget),
            )
        )

    @property
    def mode(self) -> KillSwitchMode:
        """The kill-switch mode the gate enforces; set it whenever the persisted mode changes."""
        return _MODES[self._mode]

    @mode.setter
    def mode(self, value: KillSwitchMode) -> None:
        self._mode = _MODE_CODES[KillSwitchMode(value)]

    @property
    def blocked(self) -> bool:
        """True while reconciliation is pending or found a difference: every order is refused."""
        return self._blocked

    @blocked.setter
    def blocked(self, value: bool) -> None:
        self._blocked = bool(value)

    @property
    def hold(self) -> EntryHold | None:
        """The live feed's hold on new entries per symbol (None: no feed hold, a backtest)."""
        return self._stale

    @hold.setter
    def hold(self, value: EntryHold | None) -> None:
        self._stale = value

    def grows(self, k: int, signed_qty: float) -> bool:
        """True when the order leaves |position| (counting pending orders) larger than now.

        Check a batch of orders (one step's sizing) with these last, so the reductions it
        plans are counted before the orders that add exposure: a batch that fits the caps once
        all of it is done then passes order by order (`sorted(batch, key=grows)`).
        """
        cur = self._qty[k] + self._pending[k]
        return abs(cur + signed_qty) > abs(cur)

    def pending(self, k: int) -> float:
        """Signed quantity of symbol k sent and not yet filled or ended."""
        return self._pending[k]

    # -- the order path ---------------------------------------------------------------------
    def check(  # noqa: PLR0912 - one flat body: a call per rule costs more than the rule
        self, k: int, signed_qty: float, price: float, equity: float, now: float, market_open: bool
    ) -> int:
        """The first rule an order of `signed_qty` (+ buy, - sell) of symbol k breaks, or 0.

        `price` is the limit (or stop) price, 0.0 for a market order; `equity` the account
        equity the order was sized with; `now` POSIX seconds (simulated time in a backtest).
        """
        if self._blocked:
            return _RECONCILING
        mode = self._mode
        if mode == 3:
            return _FLATTEN
        cur = self._qty[k] + self._pending[k]
        proj = cur + signed_qty
        if cur > 0.0:
            reducing = 0.0 <= proj <= cur
        elif cur < 0.0:
            reducing = cur <= proj <= 0.0
        else:
            reducing = proj == 0.0
        if mode and not reducing:
            return _HALTED if mode == 1 else _REDUCING
        if not market_open:
            return _CLOSED
        last = self._last[k]
        # `not (x <= limit)` so that a NaN (no reference price, no equity) fails closed
        if price > 0.0 and self._collar_on and not (abs(price - last) <= self._collar * last):
            return _COLLAR
        if not reducing:
            if self._stale is not None and self._stale.holds(k):
                return _STALE
            if proj < 0.0 and not self._can_short[k]:
                return _SHORT
            size = proj if proj >= 0.0 else -proj
            if size > self._qty_cap:
                return _QTY
            if not (last > 0.0 and size * last <= self._pct * equity + ABS_TOL):
                return _PCT
            cur_size = cur if cur >= 0.0 else -cur
            if size > cur_size:  # a flip that ends smaller does not add gross exposure
                if now != self._fresh_at:  # a new step: prices moved since the last total
                    self.refresh(now)
                gross = self._gross_total + (size - cur_size) * last
                if not (gross <= self._gross * equity + ABS_TOL):
                    return _GROSS
                if not (gross <= self._budget):
                    return _BUDGET
            if cur == 0.0 and self._max_positions and self.open_positions() >= self._max_positions:
                return _OPEN
            notional = signed_qty if signed_qty >= 0.0 else -signed_qty
            if not (notional * (price if price > 0.0 else last) <= self._notional):
                return _NOTIONAL
        if self._rate and self._ring[self._ring_at] > now - WINDOW_S:
            return _RATE
        return _OK

    def refresh(self, now: float) -> None:
        """Recompute the gross total from the ledger's positions and prices (O(held)).

        `check` does this itself on the first order of a new `now`; the loop calls it before a
        step's batch, after prices moved and the engine's own fills (which the gate does not
        see), so a check costs the same whatever the number of positions held.
        """
        self._gross_total = self.gross_exposure()
        self._fresh_at = now

    def accepted(self, k: int, signed_qty: float, now: float) -> None:
        """An order that passed `check` was sent: it counts toward the rate and is pending."""
        self._add_pending(k, signed_qty)
        if self._rate:
            self._ring[self._ring_at] = now
            self._ring_at = (self._ring_at + 1) % self._rate

    def filled(self, k: int, signed_qty: float) -> None:
        """`signed_qty` of a sent order filled (the ledger's qty already moved): no longer pending."""
        self._add_pending(k, -signed_qty, filled=True)

    def released(self, k: int, signed_unfilled: float) -> None:
        """A sent order ended (cancelled, expired, rejected) with `signed_unfilled` never filled."""
        self._add_pending(k, -signed_unfilled)

    def _add_pending(self, k: int, delta: float, *, filled: bool = False) -> None:
        if not delta:
            return
        before = self._pending[k]
        value = round(before + delta, _DECIMALS)
        if not filled:  # the total counts |position + pending|, which a fill leaves as it was
            q = self._qty[k]
            self._gross_total += (abs(q + value) - abs(q + before)) * self._last[k]
        self._pending[k] = value
        if value and k not in self._pending_idx:
            self._pending_idx.append(k)
        elif not value and k in self._pending_idx:
            self._pending_idx.remove(k)

    def open_positions(self) -> int:
        """Symbols with a non-zero position once every pending order fills."""
        count = len(self._held)
        qty = self._qty
        pending = self._pending
        for j in self._pending_idx:
            count += (qty[j] + pending[j] != 0.0) - (qty[j] != 0.0)
        return count

    def gross_exposure(self) -> float:
        """Sum of |position incl. pending| x last close over every symbol (money)."""
        qty = self._qty
        lasts = self._last
        pending = self._pending
        total = sum(abs(qty[j] * lasts[j]) for j in self._held)
        for j in self._pending_idx:
            total += (abs(qty[j] + pending[j]) - abs(qty[j])) * lasts[j]
        return total

    def message(self, code: int, k: int, signed_qty: float, price: float, equity: float) -> str:
        """What `check` meant by `code` for this order, naming the limit and the values.

        Call it right after the check (before `accepted` or any fill), off the order path.
        """
        return self._describe(Reason(code), k, signed_qty, price, equity)

    def _describe(
        self, reason: Reason, k: int, signed_qty: float, price: float, equity: float
    ) -> str:
        limits = self.limits
        symbol = limits.symbols[k]
        order = f"{'buy' if signed_qty >= 0 else 'sell'} {_units(abs(signed_qty))} {symbol}"
        if reason is Reason.OK:
            return f"{order} passes every risk rule"
        if reason is Reason.FLATTEN_AND_HALT:
            return f"the kill switch is flatten_and_halt: no order is accepted ({order})"
        if reason is Reason.RECONCILIATION_PENDING:
            return (
                "the account's state at the broker is not reconciled with ours yet (or differs):"
                f" no order is sent until it is ({order}); cancels still pass"
            )
        if reason in (Reason.HALT_ENTRIES, Reason.REDUCE_ONLY):
            cur = self._qty[k] + self._pending[k]
            return (
                f"the kill switch is {reason.name.lower()}: only orders that reduce a position "
                f"pass, and {order} would take {symbol} from {_units(cur)} to "
                f"{_units(cur + signed_qty)}"
            )
        if reason is Reason.FEED_STALE:
            why = self._stale.why(k) if self._stale is not None else "its live feed is stale"
            return f"no new entry in {symbol}: {why} ({order}); exits and reductions still pass"
        if reason is Reason.MARKET_CLOSED:
            return f"the market for {symbol} is closed ({order})"
        if reason is Reason.PRICE_COLLAR:
            last = self._last[k]
            if not last > 0:
                return f"{symbol} has no last price to hold the order price {price:,.2f} against"
            return (
                f"order price {price:,.2f} is {abs(price / last - 1):.2%} from {symbol}'s last "
                f"price {last:,.2f}; price_collar_pct is {_cap_pct(limits.price_collar_pct)}"
            )
        if reason is Reason.ORDER_RATE:
            return (
                f"{limits.max_orders_per_minute} orders were already sent in the {WINDOW_S:g} s "
                f"before {order}; max_orders_per_minute is {limits.max_orders_per_minute}"
            )
        return self._exposure_message(reason, k, signed_qty, price, equity, order)

    def _exposure_message(
        self, reason: Reason, k: int, signed_qty: float, price: float, equity: float, order: str
    ) -> str:
        limits = self.limits
        symbol = limits.symbols[k]
        cur = self._qty[k] + self._pending[k]
        proj = cur + signed_qty
        last = self._last[k]
        if reason is Reason.SHORT_NOT_ALLOWED:
            why = "allow_short is false" if not limits.allow_short else f"{symbol} is not shortable"
            return f"{order} would leave {symbol} short {_units(-proj)}; {why}"
        if reason is Reason.POSITION_QTY_CAP:
            return (
                f"position in {symbol} would be {_units(abs(proj))} units; "
                f"max_position_qty is {_units(limits.max_position_qty)}"
            )
        if reason is Reason.POSITION_PCT_CAP:
            if not last > 0:
                return f"{symbol} has no last price to value the position against max_position_pct"
            return (
                f"position in {symbol} would be {_units(abs(proj))} units = "
                f"{_share(abs(proj) * last, equity)} of equity; "
                f"max_position_pct is {_cap_pct(limits.max_position_pct)}"
            )
        if reason is Reason.GROSS_EXPOSURE_CAP:
            gross = self.gross_exposure() + (abs(proj) - abs(cur)) * last
            return (
                f"{order} would make gross exposure {gross:,.2f} = {_share(gross, equity)} of "
                f"equity; max_gross_exposure is {_cap_pct(limits.max_gross_exposure)}"
            )
        if reason is Reason.BUDGET_CAP:
            gross = self.gross_exposure() + (abs(proj) - abs(cur)) * last
            return (
                f"{order} would make the strategy's gross exposure {gross:,.2f}; "
                f"its budget is {limits.budget:,.2f}"
            )
        if reason is Reason.MAX_OPEN_POSITIONS and limits.max_positions == NO_NEW_POSITIONS:
            return (
                f"{order} would open a position, and this strategy's part of the account's "
                "max_positions is 0 under the risk policy in force (its budget is too small a "
                "share of the account)"
            )
        if reason is Reason.MAX_OPEN_POSITIONS:
            return (
                f"{order} would open a position while {self.open_positions()} are open; "
                f"max_positions is {limits.max_positions}"
            )
        if reason is Reason.ORDER_NOTIONAL_CAP:
            at = price if price > 0 else last
            return (
                f"{order} at {at:,.2f} is {abs(signed_qty) * at:,.2f} notional; "
                f"max_order_notional is {limits.max_order_notional:,.2f}"
            )
        raise ValueError(f"{reason.name} is not an exposure rule")
