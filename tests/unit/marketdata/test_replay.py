"""Stored bars replayed as closing steps, paced at a chosen speed."""

from __future__ import annotations

import pytest

from quant_domain import ConfigError
from quant_marketdata.replay import Replay, parse_speed, replay_steps
from tests.factories import frame


@pytest.mark.parametrize(
    ("text", "speed"), [("1x", 1.0), ("60x", 60.0), ("max", None), (" 2.5X", 2.5)]
)
def test_speeds_read_as_multiples_of_real_time_or_max(text: str, speed: float | None) -> None:
    assert parse_speed(text) == speed


@pytest.mark.parametrize("text", ["fast", "0x", "60", "-1x", ""])
def test_a_speed_that_is_not_one_names_the_field(text: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_speed(text)
    assert error.value.field == "speed"


def test_steps_hold_every_symbol_that_traded_at_that_time_in_order() -> None:
    a = frame([1.0, 2.0, 3.0])
    b = frame([10.0, 30.0], start="2024-01-01").iloc[[0]]  # only the first day
    steps = list(replay_steps({"A": a, "B": b}))
    assert [len(bars) for _, bars in steps] == [2, 1, 1]
    assert [[bar.symbol for bar in bars] for _, bars in steps] == [["A", "B"], ["A"], ["A"]]
    assert [now for now, _ in steps] == sorted(now for now, _ in steps)
    assert steps[1][1][0].close == 2.0


class _FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_60x_waits_a_sixtieth_of_the_bar_gap_and_max_not_at_all() -> None:
    hourly = frame([1.0, 2.0, 3.0], freq="h")
    clock = _FakeTime()
    paced = list(Replay(replay_steps({"A": hourly}), 60.0, clock.sleep, clock.monotonic))
    assert len(paced) == 3
    assert clock.slept == [60.0, 60.0]  # an hour apart, sixty times faster
    fast = _FakeTime()
    list(Replay(replay_steps({"A": hourly}), None, fast.sleep, fast.monotonic))
    assert fast.slept == []


def test_a_slow_consumer_does_not_add_delay_on_top() -> None:
    clock = _FakeTime()
    replay = iter(
        Replay(
            replay_steps({"A": frame([1.0, 2.0, 3.0], freq="min")}),
            1.0,
            clock.sleep,
            clock.monotonic,
        )
    )
    next(replay)
    clock.now += 45.0  # the consumer took 45 s of the minute
    next(replay)
    assert clock.slept == [15.0]
