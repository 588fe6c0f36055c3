"""The parity report: two runs over the same bars, lined up order by order, every difference named.

Orders are matched by client order id, which is a pure function of (account, strategy, session,
decision sequence): the same decision in a paper session and in a backtest for the same account
carries the same id. Runs on different accounts (a paper session against a stored backtest) name
the same decision with another hash but the same session and sequence, so an order left over is
matched next by that tail, then by its bar and symbol. Each pair (or an order found in one run
only) gets one verdict:

- `identical`: same order, same outcome, same fills and fees to the cent;
- `different fill price`: same decision and quantity, filled at another price or with other fees
  (the fill model, the costs);
- `rejected`: refused in one run only (the reason code is given: a risk rule, the broker);
- `missed bar`: an order in one run only, decided at a time the other run has no step for; and
  each step one run has and the other lacks within the span both cover;
- `different decision`: an order in one run only at a time both saw, or another side, quantity
  or bar.

A report over runs with no difference says "identical". The comparison reads two `RunFacts`: an
in-memory EngineRun (`facts_of`) and a run stored in PostgreSQL (quant_db.run_trades) both are.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from quant_engine.backtest import EngineRun

IDENTICAL = "identical"
FILL_PRICE = "different fill price"
REJECTED = "rejected"
MISSED_BAR = "missed bar"
DECISION = "different decision"
VERDICTS = (IDENTICAL, FILL_PRICE, REJECTED, MISSED_BAR, DECISION)

CENT = Decimal("0.01")
_DECISION_TAIL = re.compile(r"-(\d{8}-\d{6,})$")


class OrderFacts(Protocol):
    """What parity compares of one order: the decision, where it ended, its fills."""

    @property
    def client_order_id(self) -> str: ...
    @property
    def submitted_at(self) -> datetime: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def type(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def filled_quantity(self) -> Decimal: ...
    @property
    def fill_price(self) -> Decimal | None: ...
    @property
    def code(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def fills(self) -> Sequence[tuple[Decimal, Decimal]]:
        """(quantity, price) of each fill, in the order they came."""

    @property
    def commission(self) -> Decimal: ...


class RunFacts(Protocol):
    """One run as parity sees it: its orders, its steps (None: not stored), its final equity."""

    @property
    def orders(self) -> Sequence[OrderFacts]: ...
    @property
    def steps(self) -> Collection[datetime] | None: ...
    @property
    def final_equity(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """OrderFacts of an order of an in-memory run."""

    client_order_id: str
    submitted_at: datetime
    symbol: str
    side: str
    quantity: Decimal
    type: str
    status: str
    filled_quantity: Decimal
    fill_price: Decimal | None
    code: str = ""
    reason: str = ""
    fills: tuple[tuple[Decimal, Decimal], ...] = ()
    commission: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """RunFacts of an in-memory run."""

    orders: tuple[OrderOutcome, ...]
    steps: frozenset[datetime] | None
    final_equity: Decimal | None


def facts_of(run: EngineRun) -> RunOutcome:
    """An EngineRun (a backtest's, a paper session's) as the facts parity compares."""
    fills: dict[str, list[tuple[Decimal, Decimal]]] = {}
    fees: dict[str, Decimal] = {}
    for f in run.fills:
        fills.setdefault(f.client_order_id, []).append((f.quantity, f.price))
        fees[f.client_order_id] = fees.get(f.client_order_id, Decimal(0)) + f.commission
    orders = tuple(
        OrderOutcome(
            client_order_id=r.order.client_order_id,
            submitted_at=r.submitted_at,
            symbol=r.order.symbol,
            side=r.order.side.value,
            quantity=r.order.quantity,
            type=r.order.type.value,
            status=r.status.value,
            filled_quantity=r.filled_quantity,
            fill_price=r.fill_price,
            code=r.code,
            reason=r.reason,
            fills=tuple(fills.get(r.order.client_order_id, ())),
            commission=fees.get(r.order.client_order_id, Decimal(0)),
        )
        for r in run.orders
    )
    return RunOutcome(orders, frozenset(run.index.to_pydatetime()), run.final_equity)


@dataclass(frozen=True, slots=True)
class ParityLine:
    """One order of either run (or one step only one run has) and what differs about it.

    A step line has no client order id and no symbol.
    """

    client_order_id: str
    decided_at: datetime
    symbol: str
    verdict: str
    detail: str = ""


@dataclass(slots=True)
class ParityReport:
    """Every order of two runs, lined up; `identical` when nothing differs.

    A final equity is None when its run did not store one; equities are compared to the cent.
    """

    left: str
    right: str
    lines: list[ParityLine] = field(default_factory=list)
    equity_left: Decimal | None = Decimal(0)
    equity_right: Decimal | None = Decimal(0)
    notes: list[str] = field(default_factory=list)

    @property
    def differences(self) -> list[ParityLine]:
        return [line for line in self.lines if line.verdict != IDENTICAL]

    @property
    def orders(self) -> int:
        """How many orders (of either run, a matched pair once) were lined up."""
        return sum(1 for line in self.lines if line.client_order_id)

    @property
    def equity_differs(self) -> bool:
        """The two final equities differ by a cent or more (unknown ones do not count)."""
        a, b = self.equity_left, self.equity_right
        return a is not None and b is not None and _cents(a) != _cents(b)

    @property
    def identical(self) -> bool:
        return not self.differences and not self.equity_differs

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.verdict] = out.get(line.verdict, 0) + 1
        return out

    def summary(self) -> str:
        """One line: "identical", or what differs, by kind."""
        equity = self.equity_left if self.equity_left is not None else self.equity_right
        if self.identical:
            worth = "" if equity is None else f", final equity {_cents(equity)}"
            return f"identical: {self.orders} orders{worth}"
        kinds = ", ".join(
            f"{verdict} {n}" for verdict, n in self.counts().items() if verdict != IDENTICAL
        )
        equity_text = (
            f"final equity {self.equity_left} ({self.left}) against "
            f"{self.equity_right} ({self.right})"
        )
        if not self.differences:
            return f"{self.orders} orders identical, but {equity_text}"
        head = f"{len(self.differences)} differences over {self.orders} orders: {kinds}"
        return f"{head}; {equity_text}" if self.equity_differs else head


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def _fills_text(o: OrderFacts) -> str:
    if o.fill_price is None:
        return o.status
    return f"{o.status} {o.filled_quantity} @ {o.fill_price}"


def _compare(a: OrderFacts, b: OrderFacts, left: str, right: str) -> tuple[str, str]:
    if (a.symbol, a.side, a.quantity, a.type) != (b.symbol, b.side, b.quantity, b.type):
        return DECISION, (
            f"{left}: {a.side} {a.quantity} {a.symbol}; {right}: {b.side} {b.quantity} {b.symbol}"
        )
    if a.submitted_at != b.submitted_at:
        return DECISION, (
            f"{left}: decided at {a.submitted_at.isoformat()}; "
            f"{right}: at {b.submitted_at.isoformat()}"
        )
    rejected = [
        (name, o) for name, o in ((left, a), (right, b)) if o.code and o.status == "rejected"
    ]
    if len(rejected) == 1 or (rejected and a.code != b.code):
        name, record = rejected[0]
        return REJECTED, f"{name}: {record.code} ({record.reason})"
    if (a.status, a.filled_quantity) != (b.status, b.filled_quantity):
        return DECISION, f"{left}: {_fills_text(a)}; {right}: {_fills_text(b)}"
    price = [None if o.fill_price is None else _cents(o.fill_price) for o in (a, b)]
    fills = [[(q, _cents(p)) for q, p in o.fills] for o in (a, b)]
    if price[0] != price[1] or fills[0] != fills[1]:
        return FILL_PRICE, f"{left}: {a.fill_price}; {right}: {b.fill_price}"
    if _cents(a.commission) != _cents(b.commission):
        return FILL_PRICE, f"fees {left}: {a.commission}; {right}: {b.commission}"
    return IDENTICAL, ""


def _decision_key(client_order_id: str) -> str | None:
    """The session and sequence an id ends with: the same decision on another account."""
    found = _DECISION_TAIL.search(client_order_id)
    return None if found is None else found.group(1)


def _pairs(
    a: Sequence[OrderFacts], b: Sequence[OrderFacts]
) -> tuple[list[tuple[OrderFacts, OrderFacts]], list[OrderFacts], list[OrderFacts]]:
    """Matched pairs, then the orders of `a` and of `b` left alone.

    By client order id first, then by the id's session and sequence, then by bar and symbol;
    each order is used once.
    """
    pairs: list[tuple[OrderFacts, OrderFacts]] = []
    rest_a, rest_b = list(a), list(b)
    keys = (
        lambda o: o.client_order_id,
        lambda o: _decision_key(o.client_order_id),
        lambda o: (o.submitted_at, o.symbol),
    )
    for key in keys:
        index: dict[object, list[OrderFacts]] = {}
        for o in rest_b:
            k = key(o)
            if k is not None:
                index.setdefault(k, []).append(o)
        unmatched: list[OrderFacts] = []
        used: set[int] = set()
        for o in rest_a:
            candidates = index.get(key(o)) if key(o) is not None else None
            if candidates:
                other = candidates.pop(0)
                used.add(id(other))
                pairs.append((o, other))
            else:
                unmatched.append(o)
        rest_a = unmatched
        rest_b = [o for o in rest_b if id(o) not in used]
    return pairs, rest_a, rest_b


def compare(a: RunFacts, b: RunFacts, left: str, right: str) -> ParityReport:
    """Line up the orders (and the steps) of `a` and `b`, two runs over the same bars, and name
    each difference."""
    report = ParityReport(left, right, equity_left=a.final_equity, equity_right=b.final_equity)
    for name, run in ((left, a), (right, b)):
        if run.steps is None:
            report.notes.append(
                f"{name} stored no steps: an order only the other run has cannot be told "
                "apart from a missed bar"
            )
        if run.final_equity is None:
            report.notes.append(f"{name} stored no final equity")
    steps_a = None if a.steps is None else frozenset(a.steps)
    steps_b = None if b.steps is None else frozenset(b.steps)
    pairs, alone_a, alone_b = _pairs(a.orders, b.orders)
    for x, y in pairs:
        verdict, detail = _compare(x, y, left, right)
        report.lines.append(
            ParityLine(x.client_order_id, x.submitted_at, x.symbol, verdict, detail)
        )
    report.lines.extend(_alone(o, left, right, steps_b) for o in alone_a)
    report.lines.extend(_alone(o, right, left, steps_a) for o in alone_b)
    if steps_a and steps_b:
        report.lines.extend(_missed_steps(steps_a, steps_b, left, right))
    report.lines.sort(key=lambda line: (line.decided_at, line.client_order_id))
    return report


def parity_report(
    a: EngineRun, b: EngineRun, left: str = "paper", right: str = "backtest"
) -> ParityReport:
    """Line up the orders of `a` and `b` (two in-memory runs over the same bars)."""
    return compare(facts_of(a), facts_of(b), left, right)


def _alone(
    o: OrderFacts, here: str, there: str, there_steps: frozenset[datetime] | None
) -> ParityLine:
    what = f"only in {here}: {o.side} {o.quantity} {o.symbol}, {_fills_text(o)}"
    if there_steps is not None and o.submitted_at not in there_steps:
        verdict = MISSED_BAR
        what += f"; {there} has no step at {o.submitted_at.isoformat()}"
    else:
        verdict = DECISION
    return ParityLine(o.client_order_id, o.submitted_at, o.symbol, verdict, what)


def _missed_steps(
    a: frozenset[datetime], b: frozenset[datetime], left: str, right: str
) -> list[ParityLine]:
    """A line per step one run has and the other lacks, within the span both runs cover."""
    first, last = max(min(a), min(b)), min(max(a), max(b))
    lines = []
    for here, there, mine, theirs in ((left, right, a, b), (right, left, b, a)):
        for ts in sorted(mine - theirs):
            if first <= ts <= last:
                detail = f"only in {here}: a step at {ts.isoformat()}; {there} has no step at it"
                lines.append(ParityLine("", ts, "", MISSED_BAR, detail))
    return lines
