"""`quant data stream`: live bars from Alpaca's or IB's feed, published on the bus as they close."""

# ruff: noqa: PLC0415 - the websocket client, calendars and Redis load when the command runs
from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from quant_cli.errors import fail, user_errors
from quant_db.settings import get_settings

if TYPE_CHECKING:
    from quant_domain import Timeframe
    from quant_ingestion.live_bars import LiveFeedCounts
    from quant_marketdata.live_source import LiveBarSource

SOURCES = ("alpaca", "ib")
FEEDS = ("iex", "sip")


@user_errors
def stream_command(
    source: Annotated[
        str, typer.Option(help="the live feed: alpaca (minute bars) or ib (5-second bars)")
    ] = "alpaca",
    symbols: Annotated[
        str | None, typer.Option(help="comma-separated symbols to subscribe, e.g. SPY,AAPL")
    ] = None,
    timeframe: Annotated[
        str, typer.Option(help="bars published: 1m, 5m, 15m, 30m, 1h ... or 1d")
    ] = "1m",
    feed: Annotated[
        str | None, typer.Option(help="Alpaca feed: iex or sip (default QUANT_ALPACA_FEED)")
    ] = None,
    calendar: Annotated[str, typer.Option(help="exchange calendar the bars follow")] = "XNYS",
    name: Annotated[
        str | None,
        typer.Option(help="the feed name the bars are published under (default: the source)"),
    ] = None,
) -> None:
    """Publish live bars of SYMBOLS on the bus as each TIMEFRAME bar closes, until Ctrl-C or SIGTERM."""
    from quant_domain import Timeframe
    from quant_marketdata.market_sessions import MarketSessions, SessionIntervals

    if source not in SOURCES:
        raise fail(f"--source: {source!r} is not one of {', '.join(SOURCES)}")
    chosen = [s.strip().upper() for s in (symbols or "").split(",") if s.strip()]
    if not chosen:
        raise fail("--symbols: give at least one symbol, e.g. --symbols SPY,AAPL")
    if feed is not None and feed not in FEEDS:
        raise fail(f"--feed: {feed!r} is not one of {', '.join(FEEDS)}")
    bar_timeframe = Timeframe.parse(timeframe)
    SessionIntervals(bar_timeframe, MarketSessions(calendar))  # refuses weekly bars, bad names
    if feed is not None and source != "alpaca":
        raise fail(f"--feed: only --source alpaca has feeds (iex, sip), not {source}")
    live = _alpaca(chosen, feed) if source == "alpaca" else _ib(chosen)
    typer.echo(
        f"streaming {bar_timeframe} bars of {', '.join(chosen)} from {live.endpoint} "
        f"({calendar}); Ctrl-C stops",
        err=True,
    )
    feed_name = (name or "").strip() or live.name
    counts = asyncio.run(_serve(live, bar_timeframe, calendar, feed_name))
    typer.echo(
        f"published {counts.steps} steps ({counts.bars} bars) of {', '.join(chosen)} as feed "
        f"{feed_name!r}; {counts.forced_reconnects} forced reconnect(s)"
    )


def _alpaca(symbols: list[str], feed: str | None) -> LiveBarSource:
    """The Alpaca stream; keys from APCA_API_KEY_ID / APCA_API_SECRET_KEY, the stream's origin
    from QUANT_ALPACA_STREAM_URL (default Alpaca's)."""
    from quant_marketdata.alpaca.settings import Feed
    from quant_marketdata.alpaca.settings import get_settings as alpaca_settings
    from quant_marketdata.alpaca.stream import AlpacaBarStream

    chosen: Feed | None = "sip" if feed == "sip" else "iex" if feed == "iex" else None
    return AlpacaBarStream(symbols, feed=chosen, settings=alpaca_settings())


def _ib(symbols: list[str]) -> LiveBarSource:
    """IB's real-time bars; TWS / Gateway at QUANT_IB_DATA_HOST:QUANT_IB_DATA_PORT, as client
    QUANT_IB_DATA_CLIENT_ID (its own, apart from the broker's)."""
    from quant_marketdata.ib.realtime import IbRealTimeBars
    from quant_marketdata.ib.settings import get_settings as ib_settings

    return IbRealTimeBars(symbols, settings=ib_settings())


async def _serve(
    live: LiveBarSource, timeframe: Timeframe, calendar: str, name: str
) -> LiveFeedCounts:
    from redis.asyncio import Redis

    from quant_bus.redis_bus import RedisBus
    from quant_db.embedded import redis_url
    from quant_ingestion.live_bars import LiveBarFeed

    url = redis_url(get_settings())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    bus = RedisBus.from_url(url)
    health = Redis.from_url(url, decode_responses=True)
    try:
        feed = LiveBarFeed(
            bus, live, timeframe=timeframe, calendar=calendar, name=name, health=health
        )
        return await feed.run(stop)
    finally:
        await bus.close()
        await health.aclose()
