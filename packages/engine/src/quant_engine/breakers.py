"""Circuit breakers over an equity path: the daily-loss pause and the drawdown kill switch.

Pure rules (no I/O, clock, calendar or logging), fed one marked equity point at a time with the
key of the exchange session it belongs to; the backtest (quant_engine.breaker_watch) and the
risk service feed them the same points, so both trip on the same bar (ADR 0038).

- Daily loss: equity down `daily_loss_limit` or more from the session's opening equity (the
  last equity of the previous session) -> reduce_only. Released by the first point of a later
  session, or by an admin's re-arm.
- Drawdown: equity down `max_drawdown` or more from its peak (since the start or the last
  re-arm) -> flatten_and_halt, latched: only an admin's re-arm releases it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from quant_domain import KillSwitchMode

DAILY_LOSS = "daily_loss"
DRAWDOWN = "drawdown"
RELEASE = "daily_loss_release"


@dataclass(frozen=True, slots=True)
class Trip:
    """A breaker changed state at `at`: `rule`, the mode it asks for, the value and the limit."""

    rule: str
    mode: KillSwitchMode
    at: datetime
    value: float
    limit: float
    equity: float

    def message(self) -> str:
        """One line naming the rule, the value and the limit (the alert's text)."""
        if self.rule == DAILY_LOSS:
            return (
                f"daily loss breaker: the session's loss reached {self.value:.2%} of its opening "
                f"equity (limit {self.limit:.2%}) at {self.at.isoformat()}, equity "
                f"{self.equity:,.2f}: reduce_only until the next session or an admin re-arms"
            )
        if self.rule == DRAWDOWN:
            return (
                f"drawdown kill switch: drawdown reached {self.value:.2%} from the peak (limit "
                f"{self.limit:.2%}) at {self.at.isoformat()}, equity {self.equity:,.2f}: "
                "flatten_and_halt, latched until an admin re-arms"
            )
        return (
            f"daily loss breaker released: a new session began at {self.at.isoformat()} "
            f"(equity {self.equity:,.2f})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "mode": self.mode.value,
            "at": self.at.isoformat(),
            "value": self.value,
            "limit": self.limit,
            "equity": self.equity,
        }


@dataclass(slots=True)
class BreakerState:
    """What the breakers remember between points; JSON round-trips (the service stores it)."""

    session: int | None = None  # key of the last point's session (its close, µs)
    baseline: float = math.nan  # the session's opening equity
    peak: float = math.nan
    equity: float = math.nan  # the last point's equity
    at: str | None = None  # the last point's time (ISO 8601)
    daily_tripped: bool = False
    latched: bool = False
    points: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("baseline", "peak", "equity"):
            if math.isnan(data[key]):
                data[key] = None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BreakerState:
        values = dict(data)
        for key in ("baseline", "peak", "equity"):
            values[key] = math.nan if values.get(key) is None else float(values[key])
        return cls(**values)

    @property
    def mode(self) -> KillSwitchMode:
        """The mode the breakers ask for now."""
        if self.latched:
            return KillSwitchMode.FLATTEN_AND_HALT
        if self.daily_tripped:
            return KillSwitchMode.REDUCE_ONLY
        return KillSwitchMode.ACTIVE

    def rearm(self) -> None:
        """Clear both breakers and measure afresh from the last equity (an admin's re-arm)."""
        self.daily_tripped = False
        self.latched = False
        if not math.isnan(self.equity):
            self.peak = self.equity
            self.baseline = self.equity

    def session_loss(self) -> float:
        """The loss since the session opened, as a positive share of its opening equity."""
        if not self.baseline > 0:
            return 0.0
        return max(0.0, (self.baseline - self.equity) / self.baseline)

    def drawdown(self) -> float:
        """The drawdown from the peak, as a positive share of the peak."""
        if not self.peak > 0:
            return 0.0
        return max(0.0, (self.peak - self.equity) / self.peak)


class Breakers:
    """The two breakers under `daily_loss_limit` and `max_drawdown` (shares, e.g. 0.02, 0.10)."""

    def __init__(
        self, daily_loss_limit: float, max_drawdown: float, state: BreakerState | None = None
    ) -> None:
        self.daily_loss_limit = daily_loss_limit
        self.max_drawdown = max_drawdown
        self.state = state or BreakerState()

    def observe(self, at: datetime, equity: float, session: int) -> list[Trip]:
        """Take the equity marked at `at` in session `session`; the state changes it caused."""
        s = self.state
        trips: list[Trip] = []
        released = False
        if s.session is None:
            s.baseline = equity
            s.peak = equity
        elif session != s.session:
            s.baseline = s.equity
            released = s.daily_tripped
            s.daily_tripped = False
        s.session = session
        s.equity = equity
        s.at = at.isoformat()
        s.points += 1
        if not equity <= s.peak:  # a NaN peak (after a bad point) is replaced too
            s.peak = equity
        if not s.latched:
            loss = s.session_loss()
            if not s.daily_tripped and loss >= self.daily_loss_limit:
                s.daily_tripped = True
                trips.append(
                    Trip(
                        DAILY_LOSS,
                        KillSwitchMode.REDUCE_ONLY,
                        at,
                        loss,
                        self.daily_loss_limit,
                        equity,
                    )
                )
            drawdown = s.drawdown()
            if drawdown >= self.max_drawdown:
                s.latched = True
                trips.append(
                    Trip(
                        DRAWDOWN,
                        KillSwitchMode.FLATTEN_AND_HALT,
                        at,
                        drawdown,
                        self.max_drawdown,
                        equity,
                    )
                )
        if released and not s.latched and not s.daily_tripped:
            trips.insert(0, Trip(RELEASE, KillSwitchMode.ACTIVE, at, 0.0, 0.0, equity))
        return trips

    def rearm(self) -> None:
        """An admin's re-arm: both breakers clear, measured afresh from the last equity."""
        self.state.rearm()


def next_mode(current: KillSwitchMode, trip: Trip) -> KillSwitchMode | None:
    """The kill-switch mode after `trip` when the mode is `current` (None: leave it).

    A breaker only ever makes the mode stricter, and its release only undoes its own pause:
    a drawdown flattens unless already flattening; a daily loss pauses an active account (a
    halt an admin chose is as strict); a release returns reduce_only to active.
    """
    if trip.rule == DRAWDOWN:
        return (
            None if current is KillSwitchMode.FLATTEN_AND_HALT else KillSwitchMode.FLATTEN_AND_HALT
        )
    if trip.rule == DAILY_LOSS:
        return KillSwitchMode.REDUCE_ONLY if current is KillSwitchMode.ACTIVE else None
    return KillSwitchMode.ACTIVE if current is KillSwitchMode.REDUCE_ONLY else None


def rearmed(stored: dict[str, Any]) -> dict[str, Any]:
    """The risk service's stored state (its `breakers` key a BreakerState) after a re-arm."""
    state = BreakerState.from_json(stored.get("breakers", {}))
    state.rearm()
    return {**stored, "breakers": state.to_json()}
