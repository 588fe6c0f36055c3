"""AlpacaSource against a local fake of Alpaca's data API, through alpaca-py's real client."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import SecretStr

from quant_domain import ConfigError, DataError, DataNotFoundError, DataQualityError, Timeframe
from quant_marketdata import SampleSource
from quant_marketdata.alpaca import AlpacaDataSettings, AlpacaSource
from tests.fakes.alpaca_data import KEY_ID, SECRET_KEY, FakeAlpacaData

SAMPLES = SampleSource()
GOOG = SAMPLES.get_bars("GOOG")
SPY = SAMPLES.get_bars("SP500")  # the S&P 500 index sample, served as if it were SPY
FIRST = datetime(2000, 1, 1, tzinfo=UTC)
LAST = datetime(2019, 12, 31, tzinfo=UTC)


def make_settings(**values: Any) -> AlpacaDataSettings:
    """Settings from `values` only: neither the environment's keys nor a .env file."""
    return AlpacaDataSettings(_env_file=None, **values)  # type: ignore[call-arg]


def settings_for(fake: FakeAlpacaData, **changes: Any) -> AlpacaDataSettings:
    values: dict[str, Any] = {
        "APCA_API_KEY_ID": SecretStr(KEY_ID),
        "APCA_API_SECRET_KEY": SecretStr(SECRET_KEY),
        "data_url": fake.url,
    }
    return make_settings(**{**values, **changes})


def bar_requests(fake: FakeAlpacaData) -> list[dict[str, str]]:
    return [query for query in fake.requests if "symbols" in query]


@pytest.fixture
def fake() -> Iterator[FakeAlpacaData]:
    with FakeAlpacaData({"GOOG": GOOG, "SPY": SPY}, page_size=500) as server:
        yield server


def test_alpaca_daily_bars_over_many_pages_equal_the_sample_exactly(fake: FakeAlpacaData) -> None:
    source = AlpacaSource(["GOOG"], FIRST, LAST, settings=settings_for(fake))

    bars = source.get_bars("GOOG")

    pd.testing.assert_frame_equal(bars, GOOG, check_exact=True)
    assert str(bars.index[0]) == "2004-08-19 00:00:00+00:00"
    pages = bar_requests(fake)
    assert len(pages) == 5  # 2,148 bars, 500 a page
    assert "page_token" not in pages[0]
    assert all(page["page_token"] for page in pages[1:])
    assert {(p["symbols"], p["timeframe"], p["limit"]) for p in pages} == {
        ("GOOG", "1Day", "10000")
    }


def test_alpaca_sends_daily_bounds_as_new_york_midnight_and_keeps_both_end_sessions(
    fake: FakeAlpacaData,
) -> None:
    start = datetime(2010, 1, 4, tzinfo=UTC)
    end = datetime(2010, 12, 31, 23, 59, 59, tzinfo=UTC)
    source = AlpacaSource(["GOOG"], start, end, settings=settings_for(fake))

    bars = source.get_bars("GOOG")

    pd.testing.assert_frame_equal(bars, SAMPLES.get_bars("GOOG", start, end), check_exact=True)
    assert (str(bars.index[0].date()), str(bars.index[-1].date()), len(bars)) == (
        "2010-01-04",
        "2010-12-31",
        252,
    )
    sent = bar_requests(fake)[0]
    assert (sent["start"], sent["end"]) == (
        "2010-01-04T05:00:00+00:00",
        "2010-12-31T05:00:00+00:00",
    )


def test_alpaca_start_after_midnight_begins_with_the_next_session(fake: FakeAlpacaData) -> None:
    start = datetime(2010, 1, 4, 12, tzinfo=UTC)
    end = datetime(2010, 1, 8, tzinfo=UTC)
    source = AlpacaSource(["GOOG"], start, end, settings=settings_for(fake))

    dates = [str(day.date()) for day in source.get_bars("GOOG").index]

    assert dates == ["2010-01-05", "2010-01-06", "2010-01-07", "2010-01-08"]


def test_alpaca_two_symbols_come_from_one_paginated_request(fake: FakeAlpacaData) -> None:
    source = AlpacaSource(["SPY", "GOOG"], FIRST, LAST, settings=settings_for(fake))

    goog = source.get_bars("GOOG")
    spy = source.get_bars("SPY")

    pd.testing.assert_frame_equal(goog, GOOG[GOOG.index >= FIRST], check_exact=True)
    pd.testing.assert_frame_equal(spy, SPY[SPY.index >= FIRST], check_exact=True)
    pages = bar_requests(fake)
    assert {page["symbols"] for page in pages} == {"GOOG,SPY"}
    assert len(pages) == -(-(len(goog) + len(spy)) // 500)
    assert source.symbols() == ["SPY", "GOOG"]


def test_alpaca_symbol_without_bars_raises_not_found_naming_it(fake: FakeAlpacaData) -> None:
    source = AlpacaSource(["GOOG", "NOPE"], FIRST, LAST, settings=settings_for(fake))

    with pytest.raises(DataNotFoundError, match="no 1d bars for 'NOPE'"):
        source.get_bars("NOPE")
    assert len(source.get_bars("GOOG")) == len(GOOG)


def test_alpaca_symbol_not_requested_raises_not_found_listing_the_requested(
    fake: FakeAlpacaData,
) -> None:
    source = AlpacaSource(["GOOG"], FIRST, LAST, settings=settings_for(fake))

    with pytest.raises(DataNotFoundError, match=r"'SPY' was not requested.*serves GOOG"):
        source.raw_bars("SPY")
    assert fake.requests == []


def test_alpaca_wrong_keys_raise_data_error_naming_403_without_retrying(
    fake: FakeAlpacaData,
) -> None:
    settings = settings_for(fake, APCA_API_SECRET_KEY=SecretStr("wrong"))
    source = AlpacaSource(["GOOG"], FIRST, LAST, settings=settings)

    began = time.perf_counter()
    with pytest.raises(DataError, match=r"Alpaca rejected the API keys \(HTTP 403: forbidden\.\)"):
        source.get_bars("GOOG")

    assert time.perf_counter() - began < 1.0
    assert len(fake.requests) == 1


def test_alpaca_missing_keys_raise_config_error_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.delenv("APCA_API_SECRET_KEY", raising=False)
    settings = make_settings()

    with pytest.raises(ConfigError, match="APCA_API_KEY_ID and APCA_API_SECRET_KEY not set"):
        AlpacaSource(["GOOG"], FIRST, LAST, settings=settings)


def test_alpaca_keys_and_choices_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", "id-from-env")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "secret-from-env")
    monkeypatch.setenv("QUANT_ALPACA_DATA_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("QUANT_ALPACA_FEED", "sip")

    settings = make_settings()

    assert settings.credentials() == ("id-from-env", "secret-from-env")
    assert (settings.data_url, settings.feed, settings.adjustment) == (
        "http://127.0.0.1:9",
        "sip",
        "all",
    )


def test_alpaca_feed_and_adjustment_reach_the_request(fake: FakeAlpacaData) -> None:
    settings = settings_for(fake, feed="sip", adjustment="split")
    AlpacaSource(["GOOG"], FIRST, LAST, settings=settings).get_bars("GOOG")

    sent = bar_requests(fake)[0]

    assert (sent["feed"], sent["adjustment"]) == ("sip", "split")


def test_alpaca_weekly_resample_through_cached_source_matches_the_sample(
    fake: FakeAlpacaData,
) -> None:
    source = AlpacaSource(["GOOG"], FIRST, LAST, settings=settings_for(fake))
    weekly = Timeframe.parse("1w")
    start, end = datetime(2006, 1, 1, tzinfo=UTC), datetime(2008, 6, 30, tzinfo=UTC)

    bars = source.get_bars("GOOG", start, end, timeframe=weekly)

    expected = SAMPLES.get_bars("GOOG", start, end, timeframe=weekly)
    pd.testing.assert_frame_equal(bars, expected, check_exact=True)
    assert len(bars) > 100
    assert set(pd.DatetimeIndex(bars.index).to_series().diff().dropna()) == {pd.Timedelta(days=7)}


def test_alpaca_bar_with_high_below_low_fails_the_structural_checks() -> None:
    broken = GOOG.copy()
    broken.loc[broken.index[10], "high"] = broken["low"].iloc[10] - 1.0
    with FakeAlpacaData({"GOOG": broken}) as server:
        source = AlpacaSource(["GOOG"], FIRST, LAST, settings=settings_for(server))

        with pytest.raises(DataQualityError, match="alpaca GOOG 1d:bar 11 high_below_low") as info:
            source.get_bars("GOOG")

    assert len(info.value.problems) == 1


def test_alpaca_hourly_bars_keep_their_open_time() -> None:
    first = pd.Timestamp("2024-03-04 14:30", tz="UTC")
    stamps = pd.DatetimeIndex([first + pd.Timedelta(hours=h) for h in range(7)], name="timestamp")
    closes = np.linspace(100.0, 103.0, 7)
    hourly = pd.DataFrame(
        {"open": closes - 0.5, "high": closes + 1, "low": closes - 1, "close": closes},
        index=stamps.as_unit("us"),
    ).assign(volume=np.arange(1.0, 8.0) * 1000)
    with FakeAlpacaData({"AAPL": hourly}, timeframe="1Hour") as server:
        start, end = datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC)
        source = AlpacaSource(["AAPL"], start, end, "1h", settings=settings_for(server))

        bars = source.get_bars("AAPL")

        sent = bar_requests(server)[0]
    pd.testing.assert_frame_equal(bars, hourly, check_exact=True)
    assert (sent["timeframe"], sent["start"]) == ("1Hour", "2024-03-04T00:00:00+00:00")
    assert source.native_timeframe("AAPL") == Timeframe.parse("1h")


def test_alpaca_refused_timeframe_raises_data_error_with_the_422_message(
    fake: FakeAlpacaData,
) -> None:
    source = AlpacaSource(["GOOG"], FIRST, LAST, "5m", settings=settings_for(fake))

    with pytest.raises(DataError, match=r"Alpaca refused 5m bars for GOOG .*\(HTTP 422: this fake"):
        source.get_bars("GOOG")


def test_alpaca_timeframe_it_lacks_is_refused_before_any_request() -> None:
    settings = make_settings(APCA_API_KEY_ID=SecretStr("k"), APCA_API_SECRET_KEY=SecretStr("s"))

    with pytest.raises(ConfigError, match="not 1w; fetch 1d"):
        AlpacaSource(["GOOG"], FIRST, LAST, "1w", settings=settings)


def test_alpaca_unreachable_server_raises_data_error_naming_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    settings = make_settings(
        APCA_API_KEY_ID=SecretStr("k"), APCA_API_SECRET_KEY=SecretStr("s"), data_url=url
    )
    source = AlpacaSource(["GOOG"], FIRST, LAST, settings=settings)

    with pytest.raises(DataError, match=f"could not reach Alpaca's data API at {url}"):
        source.get_bars("GOOG")


def test_fake_answers_a_bad_timeframe_with_422_json(fake: FakeAlpacaData) -> None:
    request = urllib.request.Request(
        f"{fake.url}/v2/stocks/bars?symbols=GOOG&timeframe=1Fortnight",
        headers={"APCA-API-KEY-ID": KEY_ID, "APCA-API-SECRET-KEY": SECRET_KEY},
    )

    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)

    assert info.value.code == 422
    assert json.loads(info.value.read()) == {"code": 42210000, "message": "invalid timeframe"}
    info.value.close()
