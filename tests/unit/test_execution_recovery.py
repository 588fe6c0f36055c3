"""A finished step's mark: its key reads back as the same step, and keys sort in step order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from quant_domain import KillSwitchMode
from quant_execution.recovery import StepMark, steps_group


def test_a_step_mark_reads_back_from_its_key() -> None:
    mark = StepMark(41, datetime(2021, 3, 4, 21, 0, tzinfo=UTC), 5, KillSwitchMode.HALT_ENTRIES)
    assert StepMark.parse(mark.key) == mark
    assert mark.key.startswith("step:0000000041:5:halt_entries:")


def test_step_mark_keys_sort_in_step_order_past_ten() -> None:
    start = datetime(2021, 1, 1, tzinfo=UTC)
    marks = [StepMark(i, start + timedelta(days=i), 1, KillSwitchMode.ACTIVE) for i in range(12)]
    assert sorted(m.key for m in marks) == [m.key for m in marks]


def test_a_runs_step_group_fits_the_processed_events_column() -> None:
    assert len(steps_group(uuid.uuid4())) <= 64
    late = StepMark(10**9, datetime(2099, 12, 31, tzinfo=UTC), 10_000, KillSwitchMode.REDUCE_ONLY)
    assert len(late.key) <= 160
