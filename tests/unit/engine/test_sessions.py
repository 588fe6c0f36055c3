"""Sessions from a calendar: labels, the simulated clock, and daily_close once per session."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from quant_backtest.runner import universe_calendar
from quant_domain import (
    ConfigError,
    MarketState,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    PortfolioView,
    Signal,
    SignalDirection,
    TimeInForce,
)
from quant_domain.ports import Clock
from quant_engine import BacktestConfig, BacktestEngine, Timeline, build_timeline
from quant_engine.sessions import session_calendar
from quant_engine.sim import SimulatedClock
from quant_engine.sim.clock import TimelineClock
from quant_marketdata import SampleSource, SyntheticSource
from quant_strategy import build_strategy
from tests.factories import ScriptedStrategy, random_walk, strategy_config

NY = ZoneInfo("America/New_York")


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A New York wall-clock time, as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def bars_at(stamps: pd.DatetimeIndex) -> pd.DataFrame:
    """Flat bars at `stamps` (UTC) in the market-data frame shape."""
    index = pd.DatetimeIndex(stamps).tz_convert("UTC").rename("timestamp")
    values = np.full(len(index), 100.0)
    return pd.DataFrame(
        {"open": values, "high": values, "low": values, "close": values, "volume": 1000.0},
        index=index,
    )


def minutes(first: datetime, last: datetime, freq: str = "min") -> pd.DatetimeIndex:
    return pd.date_range(first, last, freq=freq, tz="UTC")


def regular_minutes(*days: tuple[int, int, int, int]) -> pd.DatetimeIndex:
    """Minute bars (stamped at their open) from 09:30 New York to the minute before the close."""
    parts = [
        minutes(ny(y, m, d, 9, 30), ny(y, m, d, close_hour - 1, 59)) for y, m, d, close_hour in days
    ]
    return parts[0].append(parts[1:])


class SessionCounter(ScriptedStrategy):
    """Records the time of the last bar it saw whenever daily_close runs."""

    def on_start(self) -> None:
        super().on_start()
        self.closed_after: list[datetime] = []

    def daily_close(self) -> None:
        super().daily_close()
        self.closed_after.append(self.seen[-1].timestamp)


def closes_of(timeline: Timeline) -> list[datetime]:
    """When daily_close ran in a real engine run over `timeline` (its last bar's time)."""
    strategy = build_strategy(
        strategy_config(**{"class": "tests.unit.engine.test_sessions:SessionCounter"})
    )
    BacktestEngine(BacktestConfig()).run(strategy, timeline)
    assert isinstance(strategy, SessionCounter)
    assert strategy.days_closed == len(strategy.closed_after)
    return strategy.closed_after


def utc_day_ends(index: pd.DatetimeIndex) -> list[bool]:
    """The rule before sessions: a step ends its day when the next step has another UTC date."""
    days = index.normalize().asi8
    return [*(days[1:] != days[:-1]).tolist(), True]


# -- calendars and the simulated clock ------------------------------------------------------


def test_simulated_clock_implements_the_clock_port() -> None:
    clock: Clock = SimulatedClock("XNYS", start=ny(2018, 11, 20, 10, 0))
    assert clock.now() == ny(2018, 11, 20, 10, 0)


def test_xnys_normal_day_opens_at_0930_and_closes_at_1600_new_york() -> None:
    clock = SimulatedClock("XNYS")
    at = ny(2018, 11, 20, 12, 0)
    assert clock.session_open(at) == utc(2018, 11, 20, 14, 30)
    assert clock.session_close(at) == utc(2018, 11, 20, 21, 0)


def test_xnys_half_day_2018_11_23_closes_at_1300_new_york() -> None:
    clock = SimulatedClock("XNYS")
    assert clock.session_open(ny(2018, 11, 23, 11, 0)) == ny(2018, 11, 23, 9, 30)
    assert clock.session_close(ny(2018, 11, 23, 11, 0)) == ny(2018, 11, 23, 13, 0)
    assert clock.is_market_open(ny(2018, 11, 23, 13, 0))  # the close is included
    assert not clock.is_market_open(ny(2018, 11, 23, 13, 1))
    assert clock.session_close(ny(2018, 11, 23, 13, 1)) == ny(2018, 11, 26, 16, 0)


def test_xnys_session_times_follow_new_york_across_the_dst_change() -> None:
    clock = SimulatedClock("XNYS")
    friday, monday = ny(2018, 3, 9, 12, 0), ny(2018, 3, 12, 12, 0)  # clocks sprang forward 3/11
    assert clock.session_close(friday) == utc(2018, 3, 9, 21, 0)
    assert clock.session_close(monday) == utc(2018, 3, 12, 20, 0)
    assert clock.session_open(monday) == utc(2018, 3, 12, 13, 30)


def test_xnys_holiday_is_closed_and_points_to_the_next_session() -> None:
    clock = SimulatedClock("XNYS")
    thanksgiving = ny(2018, 11, 22, 12, 0)
    assert not clock.is_market_open(thanksgiving)
    assert clock.session_open(thanksgiving) == ny(2018, 11, 23, 9, 30)


def test_24h_calendar_sessions_are_utc_days_weekends_included() -> None:
    clock = SimulatedClock("24H")
    saturday = utc(2018, 11, 24, 15, 0)
    assert clock.is_market_open(saturday)
    assert clock.session_open(saturday) == utc(2018, 11, 24)
    assert clock.session_close(saturday) == utc(2018, 11, 25)


def test_clock_past_the_calendar_end_has_no_session() -> None:
    clock = SimulatedClock("XNYS")
    assert clock.session_close(utc(2200, 1, 1)) is None
    assert not clock.is_market_open(utc(2200, 1, 1))


def test_clock_time_moves_forward_only_and_must_be_timezone_aware() -> None:
    clock = SimulatedClock("XNYS")
    with pytest.raises(RuntimeError, match="not been advanced"):
        clock.now()
    clock.advance(utc(2018, 11, 20, 15))
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(utc(2018, 11, 20, 14))
    with pytest.raises(ValueError, match="no time zone"):
        clock.advance(datetime(2018, 11, 21))  # a naive time: the mistake under test


def test_unknown_calendar_name_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError, match="unknown trading calendar 'NOPE'") as caught:
        session_calendar("NOPE")
    assert caught.value.field == "calendar"


# -- labelling: daily_close once per session -------------------------------------------------


def test_daily_close_runs_once_per_session_on_xnys_minute_bars_half_day_included() -> None:
    # sessions 11-21, the half day 11-23 and 11-26; Thanksgiving (11-22) has no session, no bars
    stamps = regular_minutes((2018, 11, 21, 16), (2018, 11, 23, 13), (2018, 11, 26, 16))
    timeline = build_timeline({"SPY": bars_at(stamps)}, "XNYS")
    assert len(timeline) == 390 + 210 + 390
    assert closes_of(timeline) == [
        ny(2018, 11, 21, 15, 59),
        ny(2018, 11, 23, 12, 59),
        ny(2018, 11, 26, 15, 59),
    ]
    assert [timeline.session_close_at(s) for s in range(timeline.session_count)] == [
        ny(2018, 11, 21, 16, 0),
        ny(2018, 11, 23, 13, 0),
        ny(2018, 11, 26, 16, 0),
    ]
    assert all(timeline.market_open)


def test_daily_close_runs_at_the_session_end_not_the_utc_date_change_on_hourly_bars() -> None:
    # round-the-clock hourly bars 11-20 20:00 UTC .. 11-24 03:00 UTC on XNYS, holiday excluded
    stamps = minutes(utc(2018, 11, 20, 20), utc(2018, 11, 24, 3), "h")
    stamps = stamps[stamps.tz_convert(NY).date != date(2018, 11, 22)]
    timeline = build_timeline({"SPY": bars_at(stamps)}, "XNYS")
    assert closes_of(timeline) == [
        ny(2018, 11, 20, 15, 0),  # the 15:00 bar is the session's last; 16:00 starts the next
        ny(2018, 11, 21, 15, 0),
        ny(2018, 11, 23, 12, 0),  # the half day: the 13:00 bar is after the close
        stamps[-1].to_pydatetime(),  # the data ends inside the next session's run-up
    ]
    after_hours = timeline.index.get_loc(pd.Timestamp(ny(2018, 11, 21, 18, 0)))
    assert not timeline.market_open[after_hours]
    assert timeline.session_close_at(timeline.session[after_hours]) == ny(2018, 11, 23, 13, 0)


def test_fx_strategy_on_the_24h_calendar_closes_each_utc_day_weekends_included() -> None:
    frame = random_walk(24 * 4, seed=3, freq="h")  # Mon 2024-01-01 00:00 .. Thu 23:00 UTC
    frame.index = pd.date_range(
        "2024-01-05", periods=len(frame), freq="h", tz="UTC", name="timestamp"
    )
    timeline = build_timeline({"EURUSD": frame}, "24H")
    assert closes_of(timeline) == [utc(2024, 1, d, 23) for d in (5, 6, 7, 8)]  # Fri .. Mon
    assert [timeline.session_close_at(s) for s in range(4)] == [
        utc(2024, 1, d) for d in (6, 7, 8, 9)
    ]
    assert timeline.calendar == "24H"
    assert all(timeline.market_open)


def test_fx_sample_runs_on_the_24h_calendar_with_a_daily_close_per_utc_date() -> None:
    source = SampleSource()
    config = strategy_config(
        **{"class": "tests.unit.engine.test_sessions:SessionCounter", "universe": ["EURUSD"]}
    )
    calendar = universe_calendar(config, source)
    assert calendar is None  # an FX instrument without an exchange calendar
    frame = source.get_bars("EURUSD")
    closes = closes_of(build_timeline({"EURUSD": frame}, calendar))
    stamps = pd.Series(frame.index, index=frame.index)
    last_of_each_date = stamps.groupby(frame.index.normalize()).max()
    assert closes == [t.to_pydatetime() for t in last_of_each_date]
    assert len(closes) > 200


# -- daily bars: the session date and its close ----------------------------------------------


def test_daily_bar_is_decided_at_its_session_close_half_day_included() -> None:
    stamps = pd.DatetimeIndex([utc(2018, 11, 20), utc(2018, 11, 21), utc(2018, 11, 23)])
    timeline = build_timeline({"SPY": bars_at(stamps)}, "XNYS")
    assert timeline.daily
    assert [timeline.decision_time(i) for i in range(3)] == [
        ny(2018, 11, 20, 16, 0),
        ny(2018, 11, 21, 16, 0),
        ny(2018, 11, 23, 13, 0),
    ]
    assert timeline.day_end == [True, True, True]


def test_intraday_bar_is_decided_at_its_timestamp() -> None:
    stamps = regular_minutes((2018, 11, 23, 13))
    timeline = build_timeline({"SPY": bars_at(stamps)}, "XNYS")
    assert not timeline.daily
    assert timeline.decision_time(5) == ny(2018, 11, 23, 9, 35)


# -- the holiday bar is its own session ------------------------------------------------------


def test_daily_bar_on_a_holiday_is_a_session_of_its_own_and_counts_as_open() -> None:
    stamps = pd.DatetimeIndex([utc(2018, 11, 21), utc(2018, 11, 22), utc(2018, 11, 23)])
    timeline = build_timeline({"SPY": bars_at(stamps)}, "XNYS")
    assert list(timeline.session) == [0, 1, 2]
    assert timeline.market_open == [True, True, True]
    assert timeline.session_open_at(1) == ny(2018, 11, 22, 0, 0)  # New York midnight to midnight
    assert timeline.session_close_at(1) == ny(2018, 11, 23, 0, 0)
    assert list(timeline.own_days) == [(date(2018, 11, 22) - date(1970, 1, 1)).days]
    assert len(closes_of(timeline)) == 3  # no bar dropped, one daily_close each


def test_intraday_bars_on_a_holiday_form_one_session_and_the_clock_knows_it() -> None:
    stamps = regular_minutes((2018, 11, 21, 16), (2018, 11, 22, 16), (2018, 11, 23, 13))
    timeline = build_timeline({"SPY": bars_at(stamps)}, "XNYS")
    assert closes_of(timeline) == [
        ny(2018, 11, 21, 15, 59),
        ny(2018, 11, 22, 15, 59),
        ny(2018, 11, 23, 12, 59),
    ]
    holiday = timeline.index.get_loc(pd.Timestamp(ny(2018, 11, 22, 12, 0)))
    assert timeline.market_open[holiday]
    assert SimulatedClock.for_timeline(timeline).is_market_open(ny(2018, 11, 22, 12, 0))
    assert not SimulatedClock("XNYS").is_market_open(ny(2018, 11, 22, 12, 0))


# -- unchanged results: daily XNYS data and 24H data end days where they did -----------------


@pytest.mark.parametrize("symbol", ["SP500", "NASDAQ", "GOOG", "EURUSD"])
def test_sample_data_day_ends_are_identical_to_the_utc_date_rule(symbol: str) -> None:
    source = SampleSource()
    frame = source.get_bars(symbol)
    timeline = build_timeline({symbol: frame}, source.instrument(symbol).calendar)
    assert timeline.calendar == ("24H" if symbol == "EURUSD" else "XNYS")
    assert timeline.day_end == utc_day_ends(timeline.index)


@pytest.mark.parametrize("timeframe", ["1d", "1h", "15m"])
def test_synthetic_data_day_ends_are_identical_to_the_utc_date_rule(timeframe: str) -> None:
    source = SyntheticSource(seed=5, n_symbols=2, n_bars=3000, timeframe=timeframe)
    frames = {s: source.get_bars(s) for s in source.symbols()}
    timeline = build_timeline(frames)
    assert timeline.day_end == utc_day_ends(timeline.index)
    assert timeline.session_count == sum(timeline.day_end)


def test_momentum_v1_on_the_sp500_sample_still_ends_at_122651_59() -> None:
    from quant_backtest import run  # noqa: PLC0415 - the whole runner, only for this test
    from quant_strategy import load_strategy_config  # noqa: PLC0415

    config = load_strategy_config("configs/strategies/momentum_v1.yaml")
    source = SampleSource()
    assert universe_calendar(config, source) == "XNYS"
    result = run(config, source, BacktestConfig())
    assert round(float(result.equity["equity"].iloc[-1]), 2) == 122_651.59


# -- DAY orders expire at the session close ---------------------------------------------------


class _DayLimitAt1559(ScriptedStrategy):
    """Places one DAY buy limit far below the market on the 15:59 New York bar of 2018-11-20."""

    def generate_signals(self, state: MarketState) -> list[Signal]:
        if state.timestamp == ny(2018, 11, 20, 15, 59):
            return [Signal("SPY", SignalDirection.LONG, state.timestamp)]
        return []

    def risk_check(self, signals: list[Signal], portfolio: PortfolioView) -> list[Order]:
        return [
            Order(
                symbol="SPY",
                side=OrderSide.BUY,
                quantity=Decimal(1),
                type=OrderType.LIMIT,
                limit_price=Decimal(1),
                time_in_force=TimeInForce.DAY,
            )
            for _ in signals
        ]


def _day_order_timeline() -> Timeline:
    stamps = minutes(ny(2018, 11, 20, 15, 58), ny(2018, 11, 20, 15, 59)).append(
        regular_minutes((2018, 11, 21, 16))
    )
    return build_timeline({"SPY": bars_at(stamps)}, "XNYS")


def test_timeline_tells_the_1559_step_its_session_and_that_session_close() -> None:
    timeline = _day_order_timeline()
    step = timeline.index.get_loc(pd.Timestamp(ny(2018, 11, 20, 15, 59)))
    assert timeline.day_end[step]
    assert timeline.session[step] == 0
    assert timeline.session_close_at(timeline.session[step]) == ny(2018, 11, 20, 16, 0)
    assert timeline.session[step + 1] == 1


def test_day_limit_placed_at_1559_new_york_expires_at_1600_that_day() -> None:
    strategy = build_strategy(
        strategy_config(
            **{"class": "tests.unit.engine.test_sessions:_DayLimitAt1559", "universe": ["SPY"]}
        )
    )
    run = BacktestEngine(BacktestConfig()).run(strategy, _day_order_timeline())
    [record] = run.orders
    assert record.status is OrderStatus.EXPIRED
    assert record.closed_at == ny(2018, 11, 20, 16, 0)


def test_the_backtest_clock_gives_the_same_facts_from_its_arrays_as_from_its_datetimes() -> None:
    daily = build_timeline({"A": random_walk(40)}, "XNYS")
    for timeline in (_day_order_timeline(), daily, build_timeline({"A": random_walk(40)})):
        clock = TimelineClock(timeline)
        for i in range(len(timeline)):
            clock.step = i
            now = clock.now()
            opened = clock.session_open(now)
            assert opened is not None
            expected = (now.timestamp(), clock.is_market_open(now), opened.date())
            assert clock.posix_facts() == expected, i
