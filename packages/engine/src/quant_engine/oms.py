"""The order lifecycle: legal state transitions, fills applied to orders, deterministic ids.

`TRANSITIONS` is the one place that says which status may follow which. `OrderRecord` holds one
order's life and refuses anything the table does not allow (`IllegalTransition`) or a fill that
would trade more than the order's quantity (`Overfill`); both are errors for the caller to turn
into an alert, never to swallow. Decisions taken here, beyond the table itself:

- A fill for an order in a terminal state (a fill after CANCELLED, say) is illegal and raises,
  except a redelivered fill whose execution id was applied already: that is a no-op.
- ACCEPTED -> REJECTED and PENDING_CANCEL -> REJECTED are legal: a broker may refuse a working
  order it accepted (a triggered stop-limit, funds checked at execution time), and a cancel
  requested before the broker answered the submission may meet that submission's rejection.
- A refused cancel returns the order to ACCEPTED, or to PARTIALLY_FILLED when it has fills;
  ACCEPTED for an order with fills raises.
- Repeating the current status is illegal except PARTIALLY_FILLED (each fill) and UNKNOWN (a
  lookup that is still inconclusive); callers drop duplicate broker reports before calling.
- `to()` checks only the table; fills go through `apply_fill`, which keeps filled quantity and
  average price. A broker that fills less and ends the order (a simulated resize to fit cash)
  reports the fill and then FILLED or CANCELLED with its reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from quant_domain import Fill, Order, OrderError, OrderStatus

_S = OrderStatus
_ANY_BUT_PENDING = frozenset(_S) - {_S.PENDING_SUBMIT}

TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        _S.PENDING_SUBMIT: frozenset({_S.SUBMITTED, _S.REJECTED, _S.UNKNOWN}),
        _S.SUBMITTED: frozenset(
            {
                _S.ACCEPTED,
                _S.REJECTED,
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.CANCELLED,
                _S.EXPIRED,
                _S.UNKNOWN,
                _S.PENDING_CANCEL,
            }
        ),
        _S.ACCEPTED: frozenset(
            {
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.PENDING_CANCEL,
                _S.CANCELLED,
                _S.EXPIRED,
                _S.REJECTED,
                _S.UNKNOWN,
            }
        ),
        _S.PARTIALLY_FILLED: frozenset(
            {
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.PENDING_CANCEL,
                _S.CANCELLED,
                _S.EXPIRED,
                _S.UNKNOWN,
            }
        ),
        _S.PENDING_CANCEL: frozenset(
            {
                _S.CANCELLED,
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.EXPIRED,
                _S.ACCEPTED,
                _S.REJECTED,
                _S.UNKNOWN,
            }
        ),
        _S.UNKNOWN: _ANY_BUT_PENDING,
        _S.FILLED: frozenset(),
        _S.CANCELLED: frozenset(),
        _S.REJECTED: frozenset(),
        _S.EXPIRED: frozenset(),
    }
)
"""Status -> the statuses that may follow it; terminal statuses map to the empty set."""

_FILL_RESULTS = frozenset({_S.PARTIALLY_FILLED, _S.FILLED})
_TAKES_FILLS = frozenset(s for s, targets in TRANSITIONS.items() if targets >= _FILL_RESULTS)


class IllegalTransition(OrderError):
    """An order was asked to move to a status the transition table does not allow from here."""


class Overfill(OrderError):
    """A fill would take an order's filled quantity past its quantity."""


@dataclass(slots=True)
class OrderRecord:
    """One order's life: its status, fills (filled quantity, average price) and why it ended.

    `fill_price` is the quantity-weighted average price of the fills; `fill_id` the first fill's
    id (older readers know only that), `fill_ids` every applied fill's id in arrival order.
    `code` is "" or a stable reject code (e.g. "SHORT_NOT_ALLOWED"). `eligible_step`,
    `expires_session` and `triggered` are the engine's bookkeeping: the first step the order may
    fill at, the session it expires at the end of (DAY orders), and whether its stop has fired.
    """

    order: Order
    submitted_at: datetime
    status: OrderStatus = OrderStatus.PENDING_SUBMIT
    closed_at: datetime | None = None
    filled_quantity: Decimal = Decimal(0)
    fill_price: Decimal | None = None
    fill_id: str | None = None
    fill_ids: list[str] = field(default_factory=list)
    broker_order_id: str | None = None
    reason: str = ""
    code: str = ""
    eligible_step: int = 0
    expires_session: int | None = None
    triggered: bool = False
    # sum of quantity * price over the fills, so the average is exact rather than re-derived
    _notional: Decimal = field(default=Decimal(0), init=False, repr=False, compare=False)

    @property
    def remaining(self) -> Decimal:
        """Quantity still to fill."""
        return self.order.quantity - self.filled_quantity

    def to(self, status: OrderStatus, at: datetime, reason: str = "", code: str = "") -> None:
        """Move to `status` at `at`; raises IllegalTransition when the table forbids it.

        A terminal status sets `closed_at`; a non-empty `reason` or `code` replaces the old one.
        """
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(
                f"order {self.order.client_order_id}: {self.status.value} -> {status.value} "
                "is not a legal transition"
            )
        if status is OrderStatus.ACCEPTED and self.filled_quantity:
            raise IllegalTransition(
                f"order {self.order.client_order_id} has fills; it returns to partially_filled, "
                "not accepted"
            )
        self.status = status
        if status.is_final:
            self.closed_at = at
        if reason:
            self.reason = reason
        if code:
            self.code = code

    def apply_fill(self, fill: Fill) -> bool:
        """Apply one execution; False (and no change) when its fill_id was applied already.

        Raises OrderError when the fill is another order's, IllegalTransition when the order's
        status takes no fills (terminal, or not yet submitted), and Overfill when the filled
        quantity would exceed the order's; the record is unchanged whenever it raises.
        """
        if fill.fill_id in self.fill_ids:
            return False
        order = self.order
        if self.status not in _TAKES_FILLS:
            raise IllegalTransition(
                f"order {order.client_order_id} is {self.status.value}; fill {fill.fill_id} "
                "cannot apply to it"
            )
        if fill.client_order_id != order.client_order_id or fill.side is not order.side:
            raise OrderError(
                f"fill {fill.fill_id} ({fill.side.value} for {fill.client_order_id}) does not "
                f"belong to order {order.client_order_id} ({order.side.value})"
            )
        filled = self.filled_quantity + fill.quantity if self.filled_quantity else fill.quantity
        if filled > order.quantity:
            raise Overfill(
                f"order {order.client_order_id}: fill {fill.fill_id} of {fill.quantity} would "
                f"fill {filled} of {order.quantity}"
            )
        status = OrderStatus.FILLED if filled == order.quantity else OrderStatus.PARTIALLY_FILLED
        if not self.fill_ids:
            if self.fill_id is None:
                self.fill_id = fill.fill_id
            self.fill_price = fill.price
            self._notional = fill.quantity * fill.price
        else:
            self._notional += fill.quantity * fill.price
            self.fill_price = self._notional / filled
        self.fill_ids.append(fill.fill_id)
        self.filled_quantity = filled
        self.status = status
        if status is OrderStatus.FILLED:
            self.closed_at = fill.timestamp
        return True

    def to_dict(self) -> dict[str, Any]:
        o = self.order
        return {
            "client_order_id": o.client_order_id,
            "broker_order_id": self.broker_order_id,
            "symbol": o.symbol,
            "side": o.side.value,
            "type": o.type.value,
            "time_in_force": o.time_in_force.value,
            "quantity": str(o.quantity),
            "limit_price": None if o.limit_price is None else str(o.limit_price),
            "stop_price": None if o.stop_price is None else str(o.stop_price),
            "status": self.status.value,
            "submitted_at": self.submitted_at.isoformat(),
            "closed_at": None if self.closed_at is None else self.closed_at.isoformat(),
            "filled_quantity": str(self.filled_quantity),
            "fill_price": None if self.fill_price is None else str(self.fill_price),
            "fill_id": self.fill_id,
            "fill_ids": list(self.fill_ids),
            "reason": self.reason,
            "code": self.code,
        }


_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_PREFIX_LENGTH = 16
_HASH_LENGTH = 12
MAX_SEQUENCE = 999_999_999
"""The largest decision sequence a session can number; it keeps an id within 48 characters."""


def _stem(account: str, strategy_id: str) -> str:
    """The part of every id of one (account, strategy): a readable prefix and a short hash.

    The hash covers both strings in full (length-prefixed, so "ab"+"c" and "a"+"bc" differ);
    the prefix is only there for people reading broker screens.
    """
    if not account:
        raise ValueError("account must not be empty")
    if not strategy_id:
        raise ValueError("strategy_id must not be empty")
    key = f"{len(account)}:{account}{strategy_id}".encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(key, digest_size=8).hexdigest()[:_HASH_LENGTH]
    prefix = _ID_UNSAFE.sub("_", strategy_id[:_PREFIX_LENGTH])
    return f"{prefix}-{digest}"


def _with_session(stem: str, session: date, sequence: int) -> str:
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence must be between 1 and {MAX_SEQUENCE}, got {sequence}")
    return f"{stem}-{session:%Y%m%d}-{sequence:06d}"


def client_order_id(account: str, strategy_id: str, session: date, sequence: int) -> str:
    """The client order id of the `sequence`-th decision of a strategy on an account in a session.

    A pure function of its inputs, so a restarted process names an order exactly as before and
    the broker's duplicate check makes resubmission harmless. Shape:
    `<strategy prefix>-<12 hex of hash(account, strategy)>-<YYYYMMDD>-<sequence, 6+ digits>`,
    ASCII [A-Za-z0-9_-], at most 48 characters. Reading from the right, the date and sequence
    are explicit, so two ids can only coincide when the 48-bit hashes of two (account, strategy)
    pairs do.
    """
    return _with_session(_stem(account, strategy_id), session, sequence)


class ClientOrderIds:
    """Hands out one (account, strategy)'s client order ids, numbering decisions per session.

    The sequence restarts at 1 in each new session; a session earlier than the current one is
    refused, because numbering it again would reuse its ids. After a restart, pass the session
    and the last sequence persisted for it to carry on where the process stopped.
    """

    __slots__ = ("_prefix", "_sequence", "_session", "_stem", "account", "strategy_id")

    def __init__(
        self,
        account: str,
        strategy_id: str,
        *,
        session: date | None = None,
        last_sequence: int = 0,
    ) -> None:
        if last_sequence and session is None:
            raise ValueError("last_sequence needs the session it was persisted for")
        if not 0 <= last_sequence <= MAX_SEQUENCE:
            raise ValueError(f"last_sequence must be between 0 and {MAX_SEQUENCE}")
        self.account = account
        self.strategy_id = strategy_id
        self._stem = _stem(account, strategy_id)
        self._session = session
        self._sequence = last_sequence
        self._prefix = ""  # "<stem>-<YYYYMMDD>-" of the current session, built once per session

    @property
    def session(self) -> date | None:
        return self._session

    @property
    def sequence(self) -> int:
        """The last sequence handed out in the current session (0 before the first)."""
        return self._sequence

    def next_id(self, session: date) -> str:
        """The next id for a decision taken in `session`."""
        current = self._session
        if current != session or not self._prefix:
            if current is not None and session < current:
                raise ValueError(
                    f"session {session} is before {current}; its ids may be in use already"
                )
            if current != session:
                self._sequence = 0
            self._session = session
            # the same text as f"{session:%Y%m%d}", without strftime (a new session per order
            # is the common case in a daily backtest)
            self._prefix = f"{self._stem}-{session.year:04d}{session.month:02d}{session.day:02d}-"
        sequence = self._sequence + 1
        if sequence > MAX_SEQUENCE:
            raise ValueError(f"sequence must be between 1 and {MAX_SEQUENCE}, got {sequence}")
        self._sequence = sequence
        return f"{self._prefix}{sequence:06d}"
