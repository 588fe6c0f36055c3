"""Each kind of difference between two runs is attributed to its cause, to the cent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from quant_engine.parity import (
    DECISION,
    FILL_PRICE,
    IDENTICAL,
    MISSED_BAR,
    REJECTED,
    OrderOutcome,
    RunOutcome,
    compare,
)

DAY = datetime(2016, 3, 1, 21, tzinfo=UTC)
STEPS = frozenset(DAY + timedelta(days=i) for i in range(5))


def _order(seq: int, *, account: str = "abc123", **changes: object) -> OrderOutcome:
    at = DAY + timedelta(days=seq)
    order = OrderOutcome(
        client_order_id=f"momentum_v1-{account}-{at:%Y%m%d}-{seq:06d}",
        submitted_at=at,
        symbol="SP500",
        side="buy",
        quantity=Decimal(10),
        type="market",
        status="filled",
        filled_quantity=Decimal(10),
        fill_price=Decimal("2000.25"),
        fills=((Decimal(10), Decimal("2000.25")),),
        commission=Decimal("1.00"),
    )
    return replace(order, **changes)  # type: ignore[arg-type]


def _run(*orders: OrderOutcome, steps: frozenset[datetime] | None = STEPS) -> RunOutcome:
    return RunOutcome(tuple(orders), steps, Decimal("100000.00"))


def _verdicts(a: RunOutcome, b: RunOutcome) -> list[str]:
    return [line.verdict for line in compare(a, b, "paper", "backtest").lines]


def test_equal_runs_are_identical_and_a_sub_cent_price_difference_does_not_count() -> None:
    near = _order(1, fill_price=Decimal("2000.2501"), fills=((Decimal(10), Decimal("2000.2501")),))
    report = compare(_run(_order(1), _order(2)), _run(near, _order(2)), "paper", "backtest")
    assert report.identical
    assert report.summary() == "identical: 2 orders, final equity 100000.00"


def test_another_price_for_the_same_order_is_a_fill_price_difference() -> None:
    dear = _order(1, fill_price=Decimal("2000.75"), fills=((Decimal(10), Decimal("2000.75")),))
    report = compare(_run(_order(1)), _run(dear), "paper", "backtest")
    [line] = report.lines
    assert (line.verdict, line.detail) == (FILL_PRICE, "paper: 2000.25; backtest: 2000.75")
    assert report.summary() == "1 differences over 1 orders: different fill price 1"


def test_other_fees_on_the_same_fills_are_a_fill_price_difference_naming_the_fees() -> None:
    report = compare(_run(_order(1)), _run(_order(1, commission=Decimal("1.50"))), "p", "b")
    [line] = report.lines
    assert line.verdict == FILL_PRICE
    assert line.detail == "fees p: 1.00; b: 1.50"


def test_a_rejection_in_one_run_names_its_code() -> None:
    refused = _order(
        1,
        status="rejected",
        filled_quantity=Decimal(0),
        fill_price=None,
        fills=(),
        commission=Decimal(0),
        code="POSITION_QTY_CAP",
        reason="over the cap",
    )
    [line] = compare(_run(_order(1)), _run(refused), "paper", "backtest").lines
    assert (line.verdict, line.detail) == (REJECTED, "backtest: POSITION_QTY_CAP (over the cap)")


def test_another_side_or_quantity_is_a_different_decision() -> None:
    sold = _order(1, side="sell")
    fewer = _order(2, quantity=Decimal(5))
    report = compare(_run(_order(1), _order(2)), _run(sold, fewer), "paper", "backtest")
    assert [line.verdict for line in report.lines] == [DECISION, DECISION]
    assert report.lines[0].detail == "paper: buy 10 SP500; backtest: sell 10 SP500"


def test_an_order_only_one_run_has_on_a_bar_both_saw_is_a_different_decision() -> None:
    report = compare(_run(_order(1), _order(2)), _run(_order(1)), "paper", "backtest")
    assert [line.verdict for line in report.lines] == [IDENTICAL, DECISION]
    assert report.lines[1].detail.startswith("only in paper: buy 10 SP500, filled 10 @ 2000.25")


def test_a_step_one_run_lacks_is_a_missed_bar_and_so_is_the_order_decided_on_it() -> None:
    gap = DAY + timedelta(days=2)
    report = compare(_run(_order(1), _order(2)), _run(_order(1), steps=STEPS - {gap}), "p", "b")
    missed = [line for line in report.lines if line.verdict == MISSED_BAR]
    assert [(line.client_order_id == "", line.decided_at) for line in missed] == [
        (True, gap),
        (False, gap),
    ]
    assert missed[0].detail == f"only in p: a step at {gap.isoformat()}; b has no step at it"
    assert missed[1].detail.endswith(f"b has no step at {gap.isoformat()}")


def test_steps_outside_the_span_both_runs_cover_are_not_missed_bars() -> None:
    longer = STEPS | {DAY - timedelta(days=7), DAY + timedelta(days=30)}
    assert compare(_run(steps=longer), _run(), "p", "b").identical


def test_the_same_decision_on_another_account_is_matched_by_session_and_sequence() -> None:
    report = compare(_run(_order(1, account="paperac")), _run(_order(1)), "paper", "backtest")
    assert [line.verdict for line in report.lines] == [IDENTICAL]


def test_orders_with_unrelated_ids_are_matched_by_bar_and_symbol() -> None:
    other = _order(1, client_order_id="broker-assigned-7")
    assert _verdicts(_run(_order(1)), _run(other)) == [IDENTICAL]


def test_a_run_that_stored_no_steps_says_a_missed_bar_cannot_be_told_apart() -> None:
    report = compare(_run(_order(1), _order(2)), _run(_order(1), steps=None), "paper", "bt")
    assert [line.verdict for line in report.lines] == [IDENTICAL, DECISION]
    assert report.notes == [
        "bt stored no steps: an order only the other run has cannot be told apart from a missed bar"
    ]


def test_final_equities_a_cent_apart_make_the_runs_differ() -> None:
    richer = RunOutcome((), STEPS, Decimal("100000.01"))
    report = compare(_run(), richer, "paper", "backtest")
    assert not report.identical
    assert report.summary() == (
        "0 orders identical, but final equity 100000.00 (paper) against 100000.01 (backtest)"
    )
