"""The staleness watchdog: per subscribed symbol, how long the live feed has been quiet in market hours.

A socket can stay connected and deliver nothing (alpaca-py #740), so transport errors alone do
not say the data stopped. During a session, a symbol with no source bar for `warn_intervals`
intervals plus `slack` is WARN (and the feed is asked to reconnect, at most once per that
span); after `block_intervals` intervals it is BLOCK (no new entries on it). Quiet time counts
from the latest of the symbol's last bar (or the watchdog's start, before any bar) and the
session's open; outside market hours every symbol is OK, since no bar is due. A bar puts its
symbol back to OK at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from quant_domain import ensure_utc
from quant_marketdata.market_sessions import MarketSessions

DEFAULT_SLACK = timedelta(seconds=10)


class FeedState(StrEnum):
    """How fresh a symbol's live bars are: ok, warn (reconnecting), block (no new entries)."""

    OK = "ok"
    WARN = "warn"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class SymbolHealth:
    """One symbol's state, since when it holds, and when its last source bar arrived."""

    symbol: str
    state: FeedState
    since: datetime
    last_bar_at: datetime | None


@dataclass(frozen=True, slots=True)
class WatchdogReport:
    """What one check found: the symbols whose state changed, and whether to reconnect now."""

    changed: list[SymbolHealth] = field(default_factory=list)
    reconnect: bool = False


class StalenessWatchdog:
    """Tracks the last bar of each symbol and grades its silence against the calendar."""

    def __init__(
        self,
        symbols: Iterable[str],
        sessions: MarketSessions,
        interval: timedelta,
        *,
        started: datetime,
        slack: timedelta = DEFAULT_SLACK,
        warn_intervals: int = 2,
        block_intervals: int = 5,
    ) -> None:
        if interval <= timedelta(0) or not 0 < warn_intervals < block_intervals:
            raise ValueError("need interval > 0 and 0 < warn_intervals < block_intervals")
        self._sessions = sessions
        self.warn_after = interval * warn_intervals + slack
        self.block_after = interval * block_intervals
        self._started = started = ensure_utc(started)
        self._health = {s: SymbolHealth(s, FeedState.OK, started, None) for s in symbols}
        self._reconnected_at: datetime | None = None

    def saw(self, symbol: str, at: datetime) -> SymbolHealth | None:
        """A source bar of `symbol` arrived at `at`; its new health when that changed its state."""
        current = self._health.get(symbol)
        if current is None:
            return None
        at = ensure_utc(at)
        fresh = SymbolHealth(
            symbol, FeedState.OK, current.since if current.state is FeedState.OK else at, at
        )
        self._health[symbol] = fresh
        return fresh if current.state is not FeedState.OK else None

    def check(self, now: datetime) -> WatchdogReport:
        """Grade every symbol at `now`; reconnect when one is stale and no reconnect was asked
        for within the warning span."""
        now = ensure_utc(now)
        session = self._sessions.at(now)
        changed: list[SymbolHealth] = []
        stale = False
        for symbol, current in self._health.items():
            state = FeedState.OK
            if session is not None:
                heard = current.last_bar_at or self._started
                quiet = now - max(heard, session.open)
                if quiet >= self.block_after:
                    state = FeedState.BLOCK
                elif quiet >= self.warn_after:
                    state = FeedState.WARN
            stale = stale or state is not FeedState.OK
            if state is not current.state:
                updated = SymbolHealth(symbol, state, now, current.last_bar_at)
                self._health[symbol] = updated
                changed.append(updated)
        reconnect = stale and (
            self._reconnected_at is None or now - self._reconnected_at >= self.warn_after
        )
        if reconnect:
            self._reconnected_at = now
        return WatchdogReport(changed, reconnect)

    def snapshot(self) -> list[SymbolHealth]:
        """Every symbol's health now, by symbol."""
        return [self._health[s] for s in sorted(self._health)]
