"""Translation between alpaca-py's types and ours: bar requests out, bars and API errors back."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgpack
import numpy as np
import pandas as pd
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.models import Bar
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from quant_domain import Bar as DomainBar
from quant_domain import ConfigError, DataError, Timeframe, TimeUnit
from quant_marketdata.alpaca.settings import KEY_ID_VARIABLE, SECRET_KEY_VARIABLE
from quant_marketdata.raw_bars import BAR_COLUMNS, TIMESTAMP, RawBars
from quant_marketdata.timestamps import ParsedTimestamps, session_labels

MARKET_TIMEZONE = ZoneInfo("America/New_York")
"""Alpaca stamps a daily bar with 00:00 of its session date in New York time."""

_MAX_MINUTES = 59
_MAX_HOURS = 23
_MESSAGE_CHARACTERS = 200


def alpaca_timeframe(timeframe: Timeframe) -> TimeFrame:
    """Alpaca's name for `timeframe`: 1-59 minutes, 1-23 hours or one day.

    Raises:
        ConfigError: Alpaca has no such bar length (weekly bars come from resampling daily ones).
    """
    amount = timeframe.amount
    if timeframe.unit is TimeUnit.MINUTE and amount <= _MAX_MINUTES:
        return TimeFrame(amount, TimeFrameUnit.Minute)
    if timeframe.unit is TimeUnit.HOUR and amount <= _MAX_HOURS:
        return TimeFrame(amount, TimeFrameUnit.Hour)
    if timeframe.unit is TimeUnit.DAY and amount == 1:
        return TimeFrame(1, TimeFrameUnit.Day)
    raise ConfigError(
        f"Alpaca serves bars of 1-59m, 1-23h or 1d, not {timeframe}; "
        "fetch 1d (or 1m/1h) and resample with get_bars(timeframe=...)",
        field="timeframe",
    )


def bars_request(
    symbols: Sequence[str],
    start: datetime,
    end: datetime | None,
    timeframe: Timeframe,
    feed: str,
    adjustment: str,
) -> StockBarsRequest:
    """The request for `symbols`' bars stamped (our way) within [start, end], UTC-aware bounds.

    Daily bars are asked for by session date: Alpaca compares its New York midnight stamps with
    the bounds, so the bounds are moved to New York midnight of the first and last session wanted.
    """
    if timeframe.is_intraday:
        first, last = start, end
    else:
        first_day = start.date() if start.time() == time.min else start.date() + timedelta(1)
        first = _session_stamp(first_day)
        last = None if end is None else _session_stamp(end.date())
    return StockBarsRequest(
        symbol_or_symbols=list(symbols),
        timeframe=alpaca_timeframe(timeframe),
        start=first,
        end=last,
        feed=DataFeed(feed),
        adjustment=Adjustment(adjustment),
    )


def _session_stamp(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=MARKET_TIMEZONE)


def to_raw_bars(symbol: str, bars: Sequence[Bar], timeframe: Timeframe) -> RawBars:
    """`symbol`'s bars in Alpaca's order as a raw frame: daily ones relabelled to their session
    date at 00:00 UTC, intraday ones kept at their open time; row N of the origin is bar N."""
    stamps = pd.DatetimeIndex([bar.timestamp for bar in bars], tz="UTC")
    if not timeframe.is_intraday:
        wall = stamps.tz_convert(MARKET_TIMEZONE).tz_localize(None)
        stamps = session_labels(ParsedTimestamps(stamps, wall))
    data: dict[str, object] = {TIMESTAMP: stamps.as_unit("us")}
    for column in BAR_COLUMNS:
        data[column] = np.fromiter(
            (getattr(bar, column) for bar in bars), dtype=np.float64, count=len(bars)
        )
    return RawBars(
        pd.DataFrame(data),
        timeframe,
        origin=f"alpaca {symbol} {timeframe}",
        first_line=1,
        row_prefix="bar ",
    )


def to_data_error(error: APIError, what: str) -> DataError:
    """A DataError naming what failed and what to do, for an HTTP error Alpaca answered with."""
    status = error.status_code
    message = _message(error)
    if status in (401, 403) and "subscription" in message.lower():
        return DataError(
            f"Alpaca refused {what} (HTTP {status}: {message}); your plan does not cover this "
            "feed or period: use QUANT_ALPACA_FEED=iex or an end older than 15 minutes"
        )
    if status in (401, 403):
        return DataError(
            f"Alpaca rejected the API keys (HTTP {status}: {message}) while fetching {what}; "
            f"check {KEY_ID_VARIABLE} and {SECRET_KEY_VARIABLE}"
        )
    if status == 429:
        return DataError(
            f"Alpaca's rate limit stopped {what} (HTTP 429) after alpaca-py's retries; "
            "wait a minute and try again"
        )
    return DataError(f"Alpaca refused {what} (HTTP {status}: {message})")


def _message(error: APIError) -> str:
    text = str(error)
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:_MESSAGE_CHARACTERS] or "no message"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return text.strip()[:_MESSAGE_CHARACTERS]


def stream_bar(message: Mapping[str, Any]) -> DomainBar | None:
    """The minute bar in one stream message (`T` "b"), labelled by its start; None for any other
    message or a bar missing a field. `t` is a msgpack Timestamp, or RFC 3339 text on JSON."""
    if message.get("T") != "b":
        return None
    try:
        stamp = message["t"]
        if isinstance(stamp, msgpack.Timestamp):
            when = stamp.to_datetime()
        else:
            when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        return DomainBar(
            str(message["S"]),
            when.astimezone(UTC),
            float(message["o"]),
            float(message["h"]),
            float(message["l"]),
            float(message["c"]),
            float(message["v"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
