"""The order lifecycle: the transition table, fills, average price and de-duplication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quant_domain import Fill, Order, OrderError, OrderSide, OrderStatus, OrderType
from quant_domain.orders import TERMINAL_STATUSES
from quant_engine import OrderRecord
from quant_engine.oms import TRANSITIONS, IllegalTransition, Overfill

T0 = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
S = OrderStatus


def _record(quantity: Decimal = Decimal(10), status: OrderStatus = S.ACCEPTED) -> OrderRecord:
    order = Order(
        "AAA",
        OrderSide.BUY,
        quantity,
        OrderType.LIMIT,
        limit_price=Decimal("50"),
        client_order_id="c-1",
    )
    return OrderRecord(order=order, submitted_at=T0, status=status)


def _fill(fill_id: str, quantity: Decimal, price: Decimal, minute: int = 1) -> Fill:
    return Fill(
        fill_id=fill_id,
        client_order_id="c-1",
        symbol="AAA",
        side=OrderSide.BUY,
        quantity=quantity,
        price=price,
        commission=Decimal(0),
        timestamp=T0 + timedelta(minutes=minute),
    )


def _snapshot(record: OrderRecord) -> dict[str, object]:
    return record.to_dict()


# -- the table ----------------------------------------------------------------------------


def test_transition_table_covers_every_status_and_terminal_statuses_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    for status in TERMINAL_STATUSES:
        assert TRANSITIONS[status] == frozenset()
    for status in set(OrderStatus) - TERMINAL_STATUSES:
        assert TRANSITIONS[status], f"{status} has no way out"
    assert all(S.PENDING_SUBMIT not in targets for targets in TRANSITIONS.values())


def test_pending_submit_may_only_be_submitted_rejected_or_unknown() -> None:
    assert TRANSITIONS[S.PENDING_SUBMIT] == {S.SUBMITTED, S.REJECTED, S.UNKNOWN}


def test_unknown_resolves_by_lookup_to_any_status_but_pending_submit() -> None:
    assert TRANSITIONS[S.UNKNOWN] == set(OrderStatus) - {S.PENDING_SUBMIT}


def test_transition_table_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[S.FILLED] = frozenset({S.ACCEPTED})  # type: ignore[index]


# -- to() ----------------------------------------------------------------------------------

_ILLEGAL = [(a, b) for a in OrderStatus for b in OrderStatus if b not in TRANSITIONS[a]]


@given(st.sampled_from(_ILLEGAL))
def test_illegal_transition_raises_and_leaves_the_record_unchanged(
    pair: tuple[OrderStatus, OrderStatus],
) -> None:
    start, target = pair
    record = _record(status=start)
    before = _snapshot(record)
    with pytest.raises(IllegalTransition, match=f"{start.value} -> {target.value}"):
        record.to(target, T0, "why", "CODE")
    assert _snapshot(record) == before


def test_illegal_transition_is_an_order_error() -> None:
    assert issubclass(IllegalTransition, OrderError)
    assert issubclass(Overfill, OrderError)


def test_full_lifecycle_of_a_submitted_then_accepted_then_expired_order() -> None:
    record = _record(status=S.PENDING_SUBMIT)
    record.to(S.SUBMITTED, T0)
    record.to(S.ACCEPTED, T0)
    record.broker_order_id = "b-77"
    assert record.closed_at is None
    record.to(S.EXPIRED, T0 + timedelta(hours=6), "DAY order unfilled at the close")
    assert record.status is S.EXPIRED
    assert record.closed_at == T0 + timedelta(hours=6)
    assert record.reason == "DAY order unfilled at the close"


def test_rejection_keeps_the_reason_and_the_stable_code() -> None:
    record = _record(status=S.PENDING_SUBMIT)
    record.to(S.REJECTED, T0, "shorting is not allowed (allow_short: false)", "SHORT_NOT_ALLOWED")
    assert (record.status, record.code, record.closed_at) == (S.REJECTED, "SHORT_NOT_ALLOWED", T0)
    assert "allow_short" in record.reason


def test_refused_cancel_returns_an_order_with_fills_to_partially_filled_not_accepted() -> None:
    record = _record()
    record.apply_fill(_fill("e1", Decimal(4), Decimal(50)))
    record.to(S.PENDING_CANCEL, T0)
    with pytest.raises(IllegalTransition, match="has fills"):
        record.to(S.ACCEPTED, T0)
    assert record.status is S.PENDING_CANCEL
    record.to(S.PARTIALLY_FILLED, T0, "cancel refused: too late")
    assert record.status is S.PARTIALLY_FILLED


def test_refused_cancel_returns_an_unfilled_order_to_accepted() -> None:
    record = _record()
    record.to(S.PENDING_CANCEL, T0)
    record.to(S.ACCEPTED, T0)
    assert record.status is S.ACCEPTED


def test_a_broker_may_reject_an_order_it_had_accepted() -> None:
    record = _record()
    record.to(S.REJECTED, T0, "insufficient cash")
    assert record.status is S.REJECTED


# -- fills ---------------------------------------------------------------------------------


def test_partial_fills_move_to_partially_filled_then_filled_and_close_at_the_last_fill() -> None:
    record = _record(Decimal(10))
    assert record.apply_fill(_fill("e1", Decimal(3), Decimal("50.00"), minute=1))
    assert (record.status, record.filled_quantity, record.remaining) == (
        S.PARTIALLY_FILLED,
        Decimal(3),
        Decimal(7),
    )
    assert record.closed_at is None
    assert record.apply_fill(_fill("e2", Decimal(7), Decimal("49.00"), minute=5))
    assert record.status is S.FILLED
    assert record.remaining == 0
    assert record.closed_at == T0 + timedelta(minutes=5)
    assert record.fill_price == (3 * Decimal("50.00") + 7 * Decimal("49.00")) / 10
    assert record.fill_price == Decimal("49.3")
    assert record.fill_id == "e1"
    assert record.fill_ids == ["e1", "e2"]


def test_single_fill_keeps_the_fill_price_exactly() -> None:
    record = _record()
    price = Decimal("50.0250000000000000123")
    record.apply_fill(_fill("e1", Decimal(10), price))
    assert record.fill_price is not None
    assert str(record.fill_price) == str(price)


def test_fill_after_cancel_is_an_illegal_transition() -> None:
    record = _record()
    record.to(S.CANCELLED, T0, "cancelled by the strategy")
    with pytest.raises(IllegalTransition, match="cancelled"):
        record.apply_fill(_fill("e1", Decimal(1), Decimal(50)))
    assert record.filled_quantity == 0
    assert record.fill_ids == []


def test_fill_before_the_order_was_sent_is_an_illegal_transition() -> None:
    record = _record(status=S.PENDING_SUBMIT)
    with pytest.raises(IllegalTransition):
        record.apply_fill(_fill("e1", Decimal(1), Decimal(50)))
    assert record.status is S.PENDING_SUBMIT


def test_fill_while_a_cancel_is_pending_still_applies() -> None:
    record = _record()
    record.to(S.PENDING_CANCEL, T0)
    assert record.apply_fill(_fill("e1", Decimal(10), Decimal(50)))
    assert record.status is S.FILLED


def test_redelivered_fill_of_a_filled_order_is_ignored_not_an_error() -> None:
    record = _record()
    record.apply_fill(_fill("e1", Decimal(10), Decimal(50)))
    assert record.apply_fill(_fill("e1", Decimal(10), Decimal(50))) is False
    assert record.status is S.FILLED
    assert record.filled_quantity == Decimal(10)


def test_new_fill_for_a_filled_order_is_an_illegal_transition_not_an_overfill() -> None:
    record = _record()
    record.apply_fill(_fill("e1", Decimal(10), Decimal(50)))
    with pytest.raises(IllegalTransition, match="is filled"):
        record.apply_fill(_fill("e2", Decimal(1), Decimal(50)))
    assert record.fill_ids == ["e1"]


def test_fill_of_another_order_is_refused() -> None:
    record = _record()
    stranger = Fill("e9", "c-2", "AAA", OrderSide.BUY, Decimal(1), Decimal(50), Decimal(0), T0)
    with pytest.raises(OrderError, match="does not belong to order c-1"):
        record.apply_fill(stranger)
    wrong_side = Fill("e9", "c-1", "AAA", OrderSide.SELL, Decimal(1), Decimal(50), Decimal(0), T0)
    with pytest.raises(OrderError, match="does not belong"):
        record.apply_fill(wrong_side)
    assert record.fill_ids == []


def test_overfill_raises_and_leaves_the_record_unchanged() -> None:
    record = _record(Decimal(10))
    record.apply_fill(_fill("e1", Decimal(6), Decimal(50)))
    before = _snapshot(record)
    with pytest.raises(Overfill, match="would fill 11 of 10"):
        record.apply_fill(_fill("e2", Decimal(5), Decimal(51)))
    assert _snapshot(record) == before


def test_to_dict_has_the_old_keys_plus_broker_order_id_code_and_fill_ids() -> None:
    record = _record()
    record.broker_order_id = "b-1"
    record.apply_fill(_fill("e1", Decimal(4), Decimal(50)))
    record.apply_fill(_fill("e2", Decimal(6), Decimal(50)))
    row = record.to_dict()
    assert set(row) == {
        "client_order_id",
        "broker_order_id",
        "symbol",
        "side",
        "type",
        "time_in_force",
        "quantity",
        "limit_price",
        "stop_price",
        "status",
        "submitted_at",
        "closed_at",
        "filled_quantity",
        "fill_price",
        "fill_id",
        "fill_ids",
        "reason",
        "code",
    }
    assert row["broker_order_id"] == "b-1"
    assert row["status"] == "filled"
    assert row["fill_ids"] == ["e1", "e2"]
    assert row["fill_price"] == "50"
    assert row["code"] == ""


# -- random broker event sequences ---------------------------------------------------------


@dataclass(frozen=True)
class _FillEvent:
    fill_id: str
    quantity: Decimal
    price: Decimal


_prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2)
_quantities = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(60), places=1)
_events = st.lists(
    st.one_of(
        st.sampled_from(list(OrderStatus)),
        st.builds(_FillEvent, st.sampled_from([f"e{k}" for k in range(8)]), _quantities, _prices),
    ),
    max_size=40,
)


@given(
    start=st.sampled_from(list(OrderStatus)),
    quantity=st.integers(1, 100).map(Decimal),
    events=_events,
)
def test_random_broker_events_keep_every_lifecycle_invariant(
    start: OrderStatus, quantity: Decimal, events: list[OrderStatus | _FillEvent]
) -> None:
    """Whatever the broker sends, in any order: a terminal state is never left, an illegal step
    raises and changes nothing, the filled quantity never passes the order's, a repeated
    execution id changes nothing, and the average price is the quantity-weighted mean."""
    record = _record(quantity, status=start)
    applied: dict[str, tuple[Decimal, Decimal]] = {}
    terminal: OrderStatus | None = start if start.is_final else None
    for k, event in enumerate(events):
        before = _snapshot(record)
        previous = record.status
        at = T0 + timedelta(minutes=k)
        try:
            if isinstance(event, _FillEvent):
                changed = record.apply_fill(_fill(event.fill_id, event.quantity, event.price, k))
                if event.fill_id in applied:
                    assert changed is False
                else:
                    assert changed is True
                    applied[event.fill_id] = (event.quantity, event.price)
            else:
                record.to(event, at)
                assert event in TRANSITIONS[previous]
        except (IllegalTransition, Overfill):
            assert _snapshot(record) == before
        if terminal is not None:
            assert record.status is terminal, f"left terminal {terminal} for {record.status}"
            assert _snapshot(record) == before
        elif record.status.is_final:
            terminal = record.status
            assert record.closed_at is not None
        assert 0 <= record.filled_quantity <= quantity
        assert record.fill_ids == list(applied)
        assert record.filled_quantity == sum((q for q, _ in applied.values()), Decimal(0))
        if applied:
            notional = sum((q * p for q, p in applied.values()), Decimal(0))
            assert record.fill_price == notional / record.filled_quantity
        else:
            assert record.fill_price is None


@given(
    fills=st.lists(st.tuples(_quantities, _prices), min_size=1, max_size=12),
)
def test_average_fill_price_is_the_quantity_weighted_mean_of_the_fills(
    fills: list[tuple[Decimal, Decimal]],
) -> None:
    total = sum((q for q, _ in fills), Decimal(0))
    record = _record(total)
    for k, (quantity, price) in enumerate(fills):
        assert record.apply_fill(_fill(f"e{k}", quantity, price))
    assert record.status is S.FILLED
    assert record.filled_quantity == total
    assert record.fill_price == sum((q * p for q, p in fills), Decimal(0)) / total
    assert record.fill_price is not None
    assert min(p for _, p in fills) <= record.fill_price <= max(p for _, p in fills)


@given(
    quantity=st.integers(1, 50).map(Decimal),
    fills=st.lists(st.integers(1, 30).map(Decimal), min_size=1, max_size=10),
)
def test_filled_quantity_never_exceeds_the_order_quantity_an_overfill_raises(
    quantity: Decimal, fills: list[Decimal]
) -> None:
    record = _record(quantity)
    filled = Decimal(0)
    for k, size in enumerate(fills):
        if record.status.is_final:
            break
        if filled + size > quantity:
            with pytest.raises(Overfill):
                record.apply_fill(_fill(f"e{k}", size, Decimal(50)))
        else:
            record.apply_fill(_fill(f"e{k}", size, Decimal(50)))
            filled += size
        assert record.filled_quantity == filled <= quantity


@given(repeats=st.lists(st.sampled_from(["e1", "e2", "e3"]), min_size=1, max_size=20))
def test_duplicate_execution_ids_are_ignored(repeats: list[str]) -> None:
    record = _record(Decimal(100))
    for fill_id in repeats:
        record.apply_fill(_fill(fill_id, Decimal(int(fill_id[1:])), Decimal(50)))
    unique = list(dict.fromkeys(repeats))
    assert record.fill_ids == unique
    assert record.filled_quantity == sum(Decimal(int(f[1:])) for f in unique)
