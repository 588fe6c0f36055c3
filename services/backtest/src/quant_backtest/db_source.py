"""Bars from PostgreSQL (the year blocks the data service keeps beside price_bars), as a DataSource."""

from __future__ import annotations

import asyncio
import atexit
import re
from datetime import UTC, datetime
from typing import Any

import asyncpg
import numpy as np
import pandas as pd

from quant_db.bar_copy import PRICE_COLUMNS, decode_blocks
from quant_db.urls import asyncpg_dsn
from quant_domain import AssetClass, DataNotFoundError, Instrument, Timeframe, ensure_utc
from quant_marketdata import BAR_COLUMNS, SAMPLE_FILES, DataSource, bars_in_range

_SYMBOLS_IN_MESSAGE = 12
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COLUMNS = pd.Index(BAR_COLUMNS)
_SYNTHETIC = re.compile(r"SYN\d{3,}")


def _micros(moment: datetime) -> int:
    """Microseconds since 1970 of an aware datetime, exactly (no float seconds)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class DatabaseSource(DataSource):
    """Reads price_blocks (price_bars packed per symbol and year, ADR 0012) as float64 frames."""

    name = "db"

    def __init__(self, url: str) -> None:
        self._dsn = asyncpg_dsn(url)
        self._timeframes: dict[str, str] | None = None  # symbol -> stored timeframe, read once
        # one private loop and one connection for the source's life: reconnecting per call cost
        # more than the reads themselves (closing right after a large read is slow)
        self._loop = asyncio.new_event_loop()
        self._connection: asyncpg.Connection[Any] | None = None
        atexit.register(self.close)

    def _run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)

    async def _connect(self) -> asyncpg.Connection[Any]:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(self._dsn)
        return self._connection

    def close(self) -> None:
        """Close the connection and the private event loop (also done at interpreter exit)."""
        if self._loop.is_closed():
            return
        connection = self._connection
        if connection is not None and not connection.is_closed():
            try:
                self._loop.run_until_complete(connection.close(timeout=2))
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                connection.terminate()  # the server is gone or the database was dropped
        self._loop.close()

    def __enter__(self) -> DatabaseSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def instrument(self, symbol: str) -> Instrument:
        """What `symbol` is. The database keeps no instrument metadata, so the symbols ingestion
        gives the bundled samples and synthetic series get those sources' instruments (EURUSD
        and SYN000.. trade without an exchange calendar); any other is an XNYS equity.
        """
        sample = SAMPLE_FILES.get(symbol)
        if sample is not None:
            return sample.instrument
        if _SYNTHETIC.fullmatch(symbol):
            return Instrument(symbol, AssetClass.SYNTHETIC, "USD", None, "synthetic series")
        return Instrument(symbol)

    async def _read_catalogue(self) -> dict[str, str]:
        connection = await self._connect()
        rows = await connection.fetch(
            "SELECT symbol, min(timeframe) AS timeframe FROM price_blocks GROUP BY symbol ORDER BY symbol"
        )
        return {r["symbol"]: r["timeframe"] for r in rows}

    def _catalogue(self) -> dict[str, str]:
        if self._timeframes is None:
            self._timeframes = self._run(self._read_catalogue())
        return self._timeframes

    def symbols(self) -> list[str]:
        return list(self._catalogue())

    def native_timeframe(self, symbol: str) -> Timeframe:
        return Timeframe.parse(self._require(symbol))

    def _require(self, symbol: str) -> str:
        """`symbol`'s catalogued timeframe; raises DataNotFoundError naming what exists."""
        catalogue = self._catalogue()
        timeframe = catalogue.get(symbol)
        if timeframe is None:
            shown = ", ".join(list(catalogue)[:_SYMBOLS_IN_MESSAGE])
            known = shown or "none: run `quant data ingest` first"
            raise DataNotFoundError(f"no bars for {symbol!r} in the database; it has {known}")
        return timeframe

    async def _read_blocks(
        self,
        symbols: list[str],
        timeframes: list[str],
        start: datetime | None,
        end: datetime | None,
    ) -> list[asyncpg.Record]:
        connection = await self._connect()
        # a hash join on the wanted symbols, not `= ANY(array)`; the ordinality gives each block
        # its symbol's position in `symbols`, and the catalogued timeframe keeps a symbol stored
        # at two timeframes to one of them; whole years are read, then trimmed in numpy
        return list(
            await connection.fetch(
                "SELECT s.k::int4 AS k, b.bars, b.data FROM price_blocks b "
                "JOIN unnest($1::text[], $2::text[]) WITH ORDINALITY AS s(symbol, timeframe, k) "
                "ON b.symbol = s.symbol AND b.timeframe = s.timeframe "
                "WHERE ($3::int IS NULL OR b.year >= $3) AND ($4::int IS NULL OR b.year <= $4) "
                "ORDER BY s.k, b.year",
                symbols,
                timeframes,
                None if start is None else start.astimezone(UTC).year,
                None if end is None else end.astimezone(UTC).year,
            )
        )

    def get_many(
        self, symbols: list[str], start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, pd.DataFrame]:
        """Several symbols' bars (native timeframes) in [start, end] (UTC-aware bounds), one read."""
        timeframes = [self._require(symbol) for symbol in symbols]
        lower = None if start is None else ensure_utc(start)
        upper = None if end is None else ensure_utc(end)
        blocks = self._run(self._read_blocks(symbols, timeframes, lower, upper))
        # blocks arrive by (symbol, year) and each is in time order, so the rows are sorted
        rows = decode_blocks([r["data"] for r in blocks])
        keys = np.repeat(
            np.array([r["k"] for r in blocks], dtype=np.int64),
            np.array([r["bars"] for r in blocks], dtype=np.int64),
        )
        micros = rows["ts"].astype(np.int64)
        if lower is not None or upper is not None:
            inside = np.ones(micros.size, dtype=bool)
            if lower is not None:
                inside &= micros >= _micros(lower)
            if upper is not None:
                inside &= micros <= _micros(upper)
            rows, keys, micros = rows[inside], keys[inside], micros[inside]
        stamps = pd.DatetimeIndex(micros.view("M8[us]"), name="timestamp").tz_localize(UTC)
        # one (5, n) float64 array for every symbol: each frame is a view of its slice, which is
        # the block layout pandas keeps, so no frame copies its data
        values = np.empty((len(PRICE_COLUMNS), micros.size), dtype=np.float64)
        for row, field in enumerate(PRICE_COLUMNS):
            values[row] = rows[field]
        bounds = np.searchsorted(keys, np.arange(1, len(symbols) + 2))
        out: dict[str, pd.DataFrame] = {}
        for position, symbol in enumerate(symbols):
            lo, hi = bounds[position], bounds[position + 1]
            out[symbol] = pd.DataFrame(
                values[:, lo:hi].T, index=stamps[lo:hi], columns=_COLUMNS, copy=False
            )
        return out

    def get_bars(
        self,
        symbol: str,
        start: datetime | None = None,
        end: datetime | None = None,
        timeframe: Timeframe | None = None,
    ) -> pd.DataFrame:
        frame = self.get_many([symbol], start, end)[symbol]
        return bars_in_range(frame, self.native_timeframe(symbol), start, end, timeframe)
