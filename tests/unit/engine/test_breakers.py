"""The breakers over an equity path: the daily-loss pause per session and the latched drawdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quant_domain import KillSwitchMode
from quant_engine.breakers import (
    DAILY_LOSS,
    DRAWDOWN,
    RELEASE,
    Breakers,
    BreakerState,
    next_mode,
)

T0 = datetime(2024, 3, 4, 15, tzinfo=UTC)


def _feed(breakers: Breakers, path: list[tuple[int, float]]) -> list[tuple[int, str]]:
    """(step, rule) of every trip along `path`, a list of (session, equity)."""
    out = []
    for step, (session, equity) in enumerate(path):
        for trip in breakers.observe(T0 + timedelta(hours=step), equity, session):
            out.append((step, trip.rule))
    return out


def test_daily_loss_trips_on_the_first_point_past_the_limit_and_releases_next_session() -> None:
    breakers = Breakers(0.02, 0.10)
    # session 1 opens at 100 (the first point); 98.5 is -1.5 %, 97.9 is -2.1 %
    path = [(1, 100.0), (1, 98.5), (1, 97.9), (1, 97.0), (2, 97.5), (2, 97.0)]
    assert _feed(breakers, path) == [(2, DAILY_LOSS), (4, RELEASE)]
    assert breakers.state.mode is KillSwitchMode.ACTIVE
    # session 2's baseline is session 1's last equity (97.0): 97.0 is no loss
    assert breakers.state.baseline == 97.0


def test_drawdown_latches_until_rearm_across_sessions() -> None:
    breakers = Breakers(0.03, 0.10)
    path = [(1, 100.0), (2, 110.0), (3, 108.0), (4, 106.0), (5, 104.0), (6, 102.0), (7, 98.95)]
    # 110 -> 98.95 is -10.05 % (and -2.99 % on the day)
    assert _feed(breakers, path) == [(6, DRAWDOWN)]
    assert breakers.state.mode is KillSwitchMode.FLATTEN_AND_HALT
    assert _feed(breakers, [(8, 120.0), (9, 80.0)]) == []  # latched: nothing changes
    assert breakers.state.mode is KillSwitchMode.FLATTEN_AND_HALT
    breakers.rearm()
    assert breakers.state.mode is KillSwitchMode.ACTIVE
    assert breakers.state.peak == 80.0


def test_breaker_state_round_trips_through_json_and_stays_latched() -> None:
    breakers = Breakers(0.02, 0.05)
    _feed(breakers, [(1, 100.0), (2, 94.0)])
    restored = Breakers(0.02, 0.05, BreakerState.from_json(breakers.state.to_json()))
    assert restored.state == breakers.state
    assert restored.state.mode is KillSwitchMode.FLATTEN_AND_HALT


def test_release_and_drawdown_on_one_point_give_only_the_drawdown() -> None:
    breakers = Breakers(0.02, 0.05)
    trips = _feed(breakers, [(1, 100.0), (1, 97.0), (2, 94.0)])
    assert trips == [(1, DAILY_LOSS), (2, DAILY_LOSS), (2, DRAWDOWN)]


def test_next_mode_only_makes_the_mode_stricter() -> None:
    breakers = Breakers(0.02, 0.05)
    daily = breakers.observe(T0, 100.0, 1) or breakers.observe(T0, 97.0, 1)
    (trip,) = daily
    assert next_mode(KillSwitchMode.ACTIVE, trip) is KillSwitchMode.REDUCE_ONLY
    assert next_mode(KillSwitchMode.HALT_ENTRIES, trip) is None
    assert next_mode(KillSwitchMode.FLATTEN_AND_HALT, trip) is None
