"""The execution service assembles bars from the bus into whole steps, in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quant_bus.streams import BarClosedEvent
from quant_execution.steps import StepAssembler

T0 = datetime(2024, 3, 4, 21, tzinfo=UTC)


def _bar(symbol: str, at: datetime, in_step: int | None = None) -> BarClosedEvent:
    return BarClosedEvent(
        idempotency_key=f"bar:t:{symbol}:1d:{at.isoformat()}",
        symbol=symbol,
        timeframe="1d",
        timestamp=at,
        open=1.0,
        high=1.0,
        low=1.0,
        close=1.0,
        volume=1.0,
        source="t",
        bars_in_step=in_step,
    )


def test_a_step_is_released_once_it_holds_the_bars_its_events_announce() -> None:
    steps = StepAssembler()
    assert steps.add(_bar("A", T0, 2)) == []
    ((now, bars),) = steps.add(_bar("B", T0, 2))
    assert (now, [b.symbol for b in bars]) == (T0, ["A", "B"])


def test_without_a_count_a_step_is_released_when_a_later_bar_arrives() -> None:
    steps = StepAssembler()
    assert steps.add(_bar("A", T0)) == []
    released = steps.add(_bar("A", T0 + timedelta(days=1)))
    assert [now for now, _ in released] == [T0]
    assert [now for now, _ in steps.flush()] == [T0 + timedelta(days=1)]


def test_a_redelivered_bar_is_taken_once_and_a_late_one_is_counted_not_applied() -> None:
    steps = StepAssembler()
    steps.add(_bar("A", T0, 1))
    assert steps.add(_bar("A", T0, 1)) == []  # the same event again
    steps.add(_bar("A", T0 + timedelta(days=1), 2))
    assert steps.add(_bar("B", T0, 1)) == []  # its step has gone
    assert steps.late == 1


def test_steps_leave_in_time_order_even_when_a_later_one_completes_first() -> None:
    steps = StepAssembler()
    steps.add(_bar("A", T0, 2))
    assert steps.add(_bar("A", T0 + timedelta(days=1), 1)) == []  # waits for T0
    released = steps.add(_bar("B", T0, 2))
    assert [now for now, _ in released] == [T0, T0 + timedelta(days=1)]
