"""Live bars on the calendar: session-aligned intervals, closing rules, and no look-ahead."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from quant_domain import Bar, ConfigError, Timeframe
from quant_marketdata.aggregator import BarAggregator
from quant_marketdata.market_sessions import MarketSessions, SessionIntervals, watch_interval

OPEN = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)  # Monday 09:30 New York
EARLY_CLOSE_DAY_OPEN = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)  # closes 13:00 New York
MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def sessions() -> MarketSessions:
    return MarketSessions("XNYS")


def minute(symbol: str, start: datetime, price: float, volume: float = 100.0) -> Bar:
    return Bar(symbol, start, price, price + 1, price - 1, price + 0.5, volume)


def aggregator(
    sessions: MarketSessions, timeframe: str, symbols: tuple[str, ...] = ("AAPL",)
) -> BarAggregator:
    intervals = SessionIntervals(Timeframe.parse(timeframe), sessions)
    return BarAggregator(intervals, symbols, source=MINUTE, grace=timedelta(seconds=5))


def test_intervals_of_an_hour_start_at_the_session_open_and_end_at_an_early_close(
    sessions: MarketSessions,
) -> None:
    hourly = SessionIntervals(Timeframe.parse("1h"), sessions)
    first = hourly.of(OPEN + timedelta(minutes=59))
    assert first is not None
    assert (first.start, first.end) == (OPEN, OPEN + timedelta(hours=1))
    last = hourly.of(EARLY_CLOSE_DAY_OPEN + timedelta(hours=3, minutes=10))
    assert last is not None
    assert last.start == EARLY_CLOSE_DAY_OPEN + timedelta(hours=3)
    assert last.end == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 13:00 New York, not 13:30
    assert hourly.of(datetime(2026, 11, 27, 18, 0, tzinfo=UTC)) is None  # after the early close
    assert hourly.of(datetime(2026, 12, 25, 15, 0, tzinfo=UTC)) is None  # Christmas
    assert hourly.of(OPEN - MINUTE) is None  # pre-market


def test_intervals_of_a_day_cover_the_session_and_carry_its_date_at_midnight_utc(
    sessions: MarketSessions,
) -> None:
    day = SessionIntervals(Timeframe.parse("1d"), sessions).of(OPEN + timedelta(hours=3))
    assert day is not None
    assert day.label == datetime(2026, 12, 7, tzinfo=UTC)
    assert (day.start, day.end) == (OPEN, datetime(2026, 12, 7, 21, 0, tzinfo=UTC))


def test_intervals_of_a_week_are_refused_naming_the_timeframe(sessions: MarketSessions) -> None:
    with pytest.raises(ConfigError, match="1w"):
        SessionIntervals(Timeframe.parse("1w"), sessions)


def test_watch_interval_of_a_day_is_capped_at_thirty_minutes() -> None:
    assert watch_interval(Timeframe.parse("5m")) == timedelta(minutes=5)
    assert watch_interval(Timeframe.parse("1d")) == timedelta(minutes=30)


def test_aggregator_folds_five_minutes_into_one_bar_when_the_last_minute_arrives(
    sessions: MarketSessions,
) -> None:
    agg = aggregator(sessions, "5m")
    steps = [agg.add(minute("AAPL", OPEN + i * MINUTE, 100.0 + i)) for i in range(5)]
    assert steps[:4] == [[], [], [], []]
    [(label, [bar])] = steps[4]
    assert label == OPEN
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (100.0, 105.0, 99.0, 104.5, 500)
    assert bar.timestamp == OPEN


def test_aggregator_with_a_missing_last_minute_closes_on_the_clock_after_the_grace(
    sessions: MarketSessions,
) -> None:
    agg = aggregator(sessions, "5m")
    for i in range(3):  # 09:30..09:32; 09:33 and 09:34 never trade
        agg.add(minute("AAPL", OPEN + i * MINUTE, 100.0))
    end = OPEN + 5 * MINUTE
    assert agg.close_due(end) == []
    assert agg.close_due(end + timedelta(seconds=4)) == []
    [(label, [bar])] = agg.close_due(end + timedelta(seconds=5))
    assert (label, bar.volume) == (OPEN, 300.0)


def test_aggregator_waits_for_every_subscribed_symbol_before_closing_early(
    sessions: MarketSessions,
) -> None:
    agg = aggregator(sessions, "5m", ("AAPL", "MSFT"))
    for i in range(5):
        assert agg.add(minute("AAPL", OPEN + i * MINUTE, 100.0)) == []
    [(label, bars)] = agg.add(minute("MSFT", OPEN + 4 * MINUTE, 50.0))
    assert label == OPEN
    assert [b.symbol for b in bars] == ["AAPL", "MSFT"]


def test_aggregator_closes_an_interval_when_the_next_intervals_bar_arrives(
    sessions: MarketSessions,
) -> None:
    agg = aggregator(sessions, "5m")
    agg.add(minute("AAPL", OPEN, 100.0))
    [(label, [bar])] = agg.add(minute("AAPL", OPEN + 6 * MINUTE, 200.0))
    assert (label, bar.close) == (OPEN, 100.5)


def test_aggregator_counts_a_minute_arriving_after_its_step_left_as_late(
    sessions: MarketSessions,
) -> None:
    agg = aggregator(sessions, "5m")
    agg.add(minute("AAPL", OPEN, 100.0))
    agg.close_due(OPEN + 10 * MINUTE)
    assert agg.add(minute("AAPL", OPEN + 2 * MINUTE, 100.0)) == []
    assert agg.late == 1


def test_aggregator_drops_pre_market_minutes_and_unsubscribed_symbols(
    sessions: MarketSessions,
) -> None:
    agg = aggregator(sessions, "5m")
    assert agg.add(minute("AAPL", OPEN - MINUTE, 100.0)) == []
    assert agg.add(minute("TSLA", OPEN, 100.0)) == []
    assert agg.outside == 2
    assert agg.close_due(OPEN + timedelta(hours=1)) == []


def test_aggregator_last_bar_of_an_early_close_day_ends_at_the_close(
    sessions: MarketSessions,
) -> None:
    agg = aggregator(sessions, "1h")
    close = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    steps = [agg.add(minute("AAPL", close - 30 * MINUTE + i * MINUTE, 10.0)) for i in range(30)]
    [(label, [bar])] = steps[-1]
    assert label == close - 30 * MINUTE  # 12:30 New York, a 30-minute bar
    assert bar.volume == 3_000.0


def test_aggregator_never_puts_a_minute_past_an_intervals_end_into_its_bar(
    sessions: MarketSessions,
) -> None:
    """Look-ahead: a random day of minutes (some missing, two symbols, closes by bar and by
    clock) gives bars each equal to the fold of exactly the minutes inside their interval,
    each released only once its interval had ended."""
    rng = random.Random(7)
    symbols = ("AAPL", "MSFT")
    agg = aggregator(sessions, "15m", symbols)
    fed: list[Bar] = []
    closed: list[tuple[datetime, Bar]] = []  # (when it was released, the bar)
    now = OPEN
    for i in range(390):
        start = OPEN + i * MINUTE
        now = start + MINUTE + timedelta(seconds=rng.uniform(0.5, 8))  # minute bars come late
        for symbol in symbols:
            if rng.random() < 0.8:
                bar = minute(symbol, start, rng.uniform(90, 110), float(rng.randint(1, 9)))
                fed.append(bar)
                closed += [(now, b) for _, bars in agg.add(bar) for b in bars]
        closed += [(now, b) for _, bars in agg.close_due(now) for b in bars]
    now += timedelta(minutes=20)
    closed += [(now, b) for _, bars in agg.close_due(now) for b in bars]
    intervals = SessionIntervals(Timeframe.parse("15m"), sessions)
    assert len(closed) == 2 * 26
    for released, bar in closed:
        span = intervals.of(bar.timestamp)
        assert span is not None
        assert released >= span.end
        inside = [f for f in fed if f.symbol == bar.symbol and span.start <= f.timestamp < span.end]
        assert bar.volume == sum(f.volume for f in inside)
        assert bar.high == max(f.high for f in inside)
        assert bar.low == min(f.low for f in inside)
        assert (bar.open, bar.close) == (inside[0].open, inside[-1].close)
    assert agg.late == 0


def test_aggregator_folds_twelve_five_second_bars_into_a_minute(sessions: MarketSessions) -> None:
    five = timedelta(seconds=5)
    intervals = SessionIntervals(Timeframe.parse("1m"), sessions)
    agg = BarAggregator(intervals, ["AAPL"], source=five)
    steps = [agg.add(minute("AAPL", OPEN + i * five, 100.0 + i, 1.0)) for i in range(13)]
    assert all(step == [] for step in steps[:11])
    [(label, [bar])] = steps[11]
    assert (label, bar.open, bar.close, bar.volume) == (OPEN, 100.0, 111.5, 12.0)
    assert steps[12] == []  # 09:31:00 opens the next minute


def test_aggregator_refuses_source_bars_that_do_not_divide_the_timeframe(
    sessions: MarketSessions,
) -> None:
    with pytest.raises(ValueError, match="do not divide"):
        BarAggregator(
            SessionIntervals(Timeframe.parse("5m"), sessions), ["AAPL"], source=timedelta(minutes=2)
        )
