"""The risk policy's breakers inside a backtest: a step observer that trips where the service would.

After each traded step's equity mark, the equity (computed as the backtest computes its curve)
and the step's exchange session go through the same `Breakers` the risk service runs over a
paper session's stored equity points; a trip changes the loop's kill-switch mode for the next
step, and a drawdown flattens at this step's close, as a broadcast flatten does in a paper
session. Off unless a policy is given, so runs without one are unchanged.
"""

from __future__ import annotations

from datetime import datetime

from quant_domain import KillSwitchMode
from quant_engine.backtest import BacktestEngine, flatten_at_close
from quant_engine.breakers import Breakers, Trip, next_mode
from quant_engine.risk_policy import AccountLimits
from quant_engine.sessions import SessionCalendar, session_calendar


def session_key(calendar: SessionCalendar, at: datetime, daily: bool) -> int:
    """The key the breakers tell sessions apart by: the session's close (µs since 1970, UTC)."""
    return calendar.label_one(at, daily)[1]


class BreakerWatch:
    """A `StepObserver` for `BacktestEngine.run` that applies the policy's breakers.

    Warm-up steps are skipped (a paper session stores no equity point for them either);
    `trips` lists every change, with the step it happened at in `steps`.
    """

    def __init__(self, limits: AccountLimits) -> None:
        self.breakers = Breakers(limits.daily_loss_limit, limits.max_drawdown)
        self.calendar = session_calendar(limits.calendar)
        self.trips: list[Trip] = []
        self.steps: list[int] = []

    def __call__(self, i: int, engine: BacktestEngine) -> None:
        if not engine.loop.trading:
            return
        ledger = engine.ledger
        qty, last = ledger.qty, ledger.last
        value = 0.0
        for k in ledger.held:
            value += qty[k] * last[k]
        equity = ledger.cash + value
        timeline = engine.timeline
        at = timeline.times[i]
        trips = self.breakers.observe(at, equity, session_key(self.calendar, at, timeline.daily))
        loop = engine.loop
        for trip in trips:
            self.trips.append(trip)
            self.steps.append(i)
            mode = next_mode(loop.mode, trip)
            if mode is None:
                continue
            loop.mode = mode
            if mode is KillSwitchMode.FLATTEN_AND_HALT:
                flatten_at_close(loop, engine.broker, timeline, i, "kill switch: flatten_and_halt")

    def summary(self) -> list[dict[str, object]]:
        """Each trip with its step and bar time, JSON-ready (the run's metadata keeps it)."""
        return [
            {**trip.to_json(), "step": step}
            for trip, step in zip(self.trips, self.steps, strict=True)
        ]
