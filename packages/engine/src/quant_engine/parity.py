"""The parity report: two runs over the same bars, lined up order by order, every difference named.

Orders are matched by client order id, which is a pure function of (account, strategy, session,
decision sequence): the same decision in a paper session and in a backtest for the same account
carries the same id. Each pair (or an order found in one run only) gets one verdict:

- `identical`: same order, same outcome, same fills to the cent;
- `different fill price`: same decision and quantity, filled at another price (the fill model);
- `rejected`: refused in one run only (the reason code is given: a risk rule, the broker);
- `missed bar`: an order in one run only, decided at a time the other run has no step for;
- `different decision`: an order in one run only at a time both saw, or another side or quantity.

A report over runs with no difference says "identical".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from quant_engine.backtest import EngineRun
from quant_engine.oms import OrderRecord

IDENTICAL = "identical"
FILL_PRICE = "different fill price"
REJECTED = "rejected"
MISSED_BAR = "missed bar"
DECISION = "different decision"


@dataclass(frozen=True, slots=True)
class ParityLine:
    """One order of either run and what differs about it."""

    client_order_id: str
    decided_at: datetime
    symbol: str
    verdict: str
    detail: str = ""


@dataclass(slots=True)
class ParityReport:
    """Every order of two runs, lined up; `identical` when nothing differs."""

    left: str
    right: str
    lines: list[ParityLine] = field(default_factory=list)
    equity_left: Decimal = Decimal(0)
    equity_right: Decimal = Decimal(0)

    @property
    def differences(self) -> list[ParityLine]:
        return [line for line in self.lines if line.verdict != IDENTICAL]

    @property
    def identical(self) -> bool:
        return not self.differences and self.equity_left == self.equity_right

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.verdict] = out.get(line.verdict, 0) + 1
        return out

    def summary(self) -> str:
        """One line: "identical", or what differs, by kind."""
        if self.identical:
            return f"identical: {len(self.lines)} orders, final equity {self.equity_left}"
        kinds = ", ".join(
            f"{verdict} {n}" for verdict, n in self.counts().items() if verdict != IDENTICAL
        )
        equity = (
            ""
            if self.equity_left == self.equity_right
            else f"; final equity {self.equity_left} ({self.left}) against "
            f"{self.equity_right} ({self.right})"
        )
        return f"{len(self.differences)} of {len(self.lines)} orders differ: {kinds}{equity}"


def _fills_text(record: OrderRecord) -> str:
    if record.fill_price is None:
        return f"{record.status.value}"
    return f"{record.status.value} {record.filled_quantity} @ {record.fill_price}"


def _compare(a: OrderRecord, b: OrderRecord, left: str, right: str) -> tuple[str, str]:
    oa, ob = a.order, b.order
    if (oa.symbol, oa.side, oa.quantity, oa.type) != (ob.symbol, ob.side, ob.quantity, ob.type):
        return DECISION, (
            f"{left}: {oa.side.value} {oa.quantity} {oa.symbol}; "
            f"{right}: {ob.side.value} {ob.quantity} {ob.symbol}"
        )
    rejected = [
        (name, r) for name, r in ((left, a), (right, b)) if r.code and r.status.value == "rejected"
    ]
    if len(rejected) == 1 or (rejected and a.code != b.code):
        name, record = rejected[0]
        return REJECTED, f"{name}: {record.code} ({record.reason})"
    if (a.status, a.filled_quantity) != (b.status, b.filled_quantity):
        return DECISION, f"{left}: {_fills_text(a)}; {right}: {_fills_text(b)}"
    if a.fill_price != b.fill_price:
        return FILL_PRICE, f"{left}: {a.fill_price}; {right}: {b.fill_price}"
    return IDENTICAL, ""


def parity_report(
    a: EngineRun, b: EngineRun, left: str = "paper", right: str = "backtest"
) -> ParityReport:
    """Line up the orders of `a` and `b` (two runs over the same bars) and name each difference."""
    report = ParityReport(left, right, equity_left=a.final_equity, equity_right=b.final_equity)
    steps = {name: set(run.index.to_pydatetime()) for name, run in ((left, a), (right, b))}
    by_id_b = {r.order.client_order_id: r for r in b.orders}
    seen: set[str] = set()
    for record in a.orders:
        cid = record.order.client_order_id
        seen.add(cid)
        other = by_id_b.get(cid)
        if other is None:
            report.lines.append(_alone(record, left, right, steps[right]))
            continue
        verdict, detail = _compare(record, other, left, right)
        report.lines.append(
            ParityLine(cid, record.submitted_at, record.order.symbol, verdict, detail)
        )
    for record in b.orders:
        if record.order.client_order_id not in seen:
            report.lines.append(_alone(record, right, left, steps[left]))
    report.lines.sort(key=lambda line: (line.decided_at, line.client_order_id))
    return report


def _alone(record: OrderRecord, here: str, there: str, there_steps: set[datetime]) -> ParityLine:
    o = record.order
    what = f"only in {here}: {o.side.value} {o.quantity} {o.symbol}, {_fills_text(record)}"
    verdict = DECISION if record.submitted_at in there_steps else MISSED_BAR
    if verdict == MISSED_BAR:
        what += f"; {there} has no step at {record.submitted_at.isoformat()}"
    return ParityLine(o.client_order_id, record.submitted_at, o.symbol, verdict, what)
