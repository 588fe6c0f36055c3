"""The staleness watchdog on the XNYS calendar with 5-minute intervals (clock injected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quant_marketdata.market_sessions import MarketSessions
from quant_marketdata.watchdog import FeedState, StalenessWatchdog

OPEN = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)
CLOSE = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)
S = timedelta(seconds=1)


@pytest.fixture(scope="module")
def sessions() -> MarketSessions:
    return MarketSessions("XNYS")


def watchdog(sessions: MarketSessions, started: datetime = OPEN) -> StalenessWatchdog:
    return StalenessWatchdog(("AAPL", "MSFT"), sessions, FIVE, started=started)


def states(dog: StalenessWatchdog) -> dict[str, FeedState]:
    return {h.symbol: h.state for h in dog.snapshot()}


def test_watchdog_warns_after_two_intervals_and_ten_seconds_and_asks_to_reconnect(
    sessions: MarketSessions,
) -> None:
    dog = watchdog(sessions)
    dog.saw("AAPL", OPEN + FIVE)
    dog.saw("MSFT", OPEN + FIVE)
    quiet_until = OPEN + FIVE + 2 * FIVE + 10 * S
    assert dog.check(quiet_until - S).changed == []
    report = dog.check(quiet_until)
    assert report.reconnect
    assert [(h.symbol, h.state, h.since) for h in report.changed] == [
        ("AAPL", FeedState.WARN, quiet_until),
        ("MSFT", FeedState.WARN, quiet_until),
    ]


def test_watchdog_asks_to_reconnect_once_per_warning_span_while_still_quiet(
    sessions: MarketSessions,
) -> None:
    dog = watchdog(sessions)
    warn = OPEN + 2 * FIVE + 10 * S
    assert dog.check(warn).reconnect
    assert not dog.check(warn + S).reconnect
    assert not dog.check(warn + 2 * FIVE).reconnect
    assert dog.check(warn + 2 * FIVE + 10 * S).reconnect


def test_watchdog_blocks_after_five_intervals_and_a_bar_clears_it(
    sessions: MarketSessions,
) -> None:
    dog = watchdog(sessions)
    dog.saw("MSFT", OPEN + 4 * FIVE)
    report = dog.check(OPEN + 5 * FIVE)
    assert [(h.symbol, h.state) for h in report.changed] == [("AAPL", FeedState.BLOCK)]
    assert states(dog) == {"AAPL": FeedState.BLOCK, "MSFT": FeedState.OK}
    back = dog.saw("AAPL", OPEN + 5 * FIVE + S)
    assert back is not None
    assert (back.state, back.since) == (FeedState.OK, OPEN + 5 * FIVE + S)
    assert states(dog)["AAPL"] is FeedState.OK


def test_watchdog_counts_quiet_time_from_the_open_not_from_yesterdays_last_bar(
    sessions: MarketSessions,
) -> None:
    dog = watchdog(sessions, started=OPEN - timedelta(hours=12))
    dog.saw("AAPL", OPEN - timedelta(hours=17))  # yesterday's close
    assert dog.check(OPEN + 2 * FIVE).changed == []
    assert {h.state for h in dog.check(OPEN + 2 * FIVE + 10 * S).changed} == {FeedState.WARN}


def test_watchdog_outside_market_hours_reports_ok_and_never_reconnects(
    sessions: MarketSessions,
) -> None:
    dog = watchdog(sessions)
    dog.check(CLOSE - S)  # quiet all day: BLOCK
    assert set(states(dog).values()) == {FeedState.BLOCK}
    report = dog.check(CLOSE + timedelta(hours=1))
    assert not report.reconnect
    assert set(states(dog).values()) == {FeedState.OK}
    saturday = datetime(2026, 12, 12, 16, 0, tzinfo=UTC)
    assert dog.check(saturday) == type(report)([], False)


def test_watchdog_started_mid_session_counts_quiet_time_from_its_start(
    sessions: MarketSessions,
) -> None:
    started = OPEN + timedelta(hours=3)
    dog = watchdog(sessions, started=started)
    assert dog.check(started + 2 * FIVE) == type(dog.check(started))([], False)
    assert {h.state for h in dog.check(started + 2 * FIVE + 10 * S).changed} == {FeedState.WARN}
