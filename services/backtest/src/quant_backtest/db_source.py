"""Bars from PostgreSQL (the price_bars table the data service fills), as a DataSource."""

from __future__ import annotations

import asyncio
import atexit
from datetime import UTC, datetime
from typing import Any

import asyncpg
import numpy as np
import pandas as pd

from quant_db.bar_copy import PG_EPOCH_US, PRICE_COLUMNS, decode_bar_rows
from quant_db.urls import asyncpg_dsn
from quant_domain import DataNotFoundError, Timeframe, ensure_utc
from quant_marketdata import BAR_COLUMNS, DataSource, bars_in_range

_SYMBOLS_IN_MESSAGE = 12


class DatabaseSource(DataSource):
    """Reads price_bars; bars are stored exactly (NUMERIC) and handed out as float64 frames."""

    name = "db"

    def __init__(self, url: str) -> None:
        self._dsn = asyncpg_dsn(url)
        self._timeframes: dict[str, str] | None = None  # symbol -> stored timeframe, read once
        # one private loop and one connection for the source's life: reconnecting per call cost
        # more than the reads themselves (closing right after a large COPY is slow)
        self._loop = asyncio.new_event_loop()
        self._connection: asyncpg.Connection[Any] | None = None
        self._second: asyncpg.Connection[Any] | None = None
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
        for connection in (self._connection, self._second):
            if connection is None or connection.is_closed():
                continue
            try:
                self._loop.run_until_complete(connection.close(timeout=2))
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                connection.terminate()  # the server is gone or the database was dropped
        self._loop.close()

    def __enter__(self) -> DatabaseSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _read_catalogue(self) -> dict[str, str]:
        connection = await self._connect()
        rows = await connection.fetch(
            "SELECT symbol, min(timeframe) AS timeframe FROM price_bars GROUP BY symbol ORDER BY symbol"
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

    async def _copy_one(
        self,
        connection: asyncpg.Connection[Any],
        symbols: list[str],
        timeframes: list[str],
        first_k: int,
        start: datetime | None,
        end: datetime | None,
    ) -> bytes:
        chunks: list[bytes] = []

        async def sink(chunk: bytes) -> None:
            chunks.append(chunk)

        # a hash join on the wanted symbols, not `= ANY(array)`, which compares every row with
        # every name; the ordinality gives each row its symbol's position in `symbols`, and the
        # catalogued timeframe keeps a symbol stored at two timeframes to one of them
        await connection.copy_from_query(
            "SELECT (s.k + $4)::int4, p.ts, p.open_f, p.high_f, p.low_f, p.close_f, p.volume_f "
            "FROM price_bars p "
            "JOIN unnest($1::text[], $5::text[]) WITH ORDINALITY AS s(symbol, timeframe, k) "
            "ON p.symbol = s.symbol AND p.timeframe = s.timeframe "
            "WHERE ($2::timestamptz IS NULL OR p.ts >= $2) AND ($3::timestamptz IS NULL OR p.ts <= $3)",
            symbols,
            start,
            end,
            first_k - 1,
            timeframes,
            output=sink,
            format="binary",
        )
        return b"".join(chunks)

    async def _copy(
        self,
        symbols: list[str],
        timeframes: list[str],
        start: datetime | None,
        end: datetime | None,
    ) -> list[bytes]:
        """Half the symbols on a second connection, concurrently: the server encodes rows on two cores."""
        if len(symbols) < 8:
            return [await self._copy_one(await self._connect(), symbols, timeframes, 1, start, end)]
        if self._second is None or self._second.is_closed():
            self._second = await asyncpg.connect(self._dsn)
        half = len(symbols) // 2
        first, second = await asyncio.gather(
            self._copy_one(await self._connect(), symbols[:half], timeframes[:half], 1, start, end),
            self._copy_one(self._second, symbols[half:], timeframes[half:], half + 1, start, end),
        )
        return [first, second]

    def get_many(
        self, symbols: list[str], start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, pd.DataFrame]:
        """Several symbols' bars (native timeframes) in [start, end] (UTC-aware bounds), one read."""
        timeframes = [self._require(symbol) for symbol in symbols]
        lower = None if start is None else ensure_utc(start)
        upper = None if end is None else ensure_utc(end)
        payloads = self._run(self._copy(symbols, timeframes, lower, upper))
        rows = np.concatenate([decode_bar_rows(p) for p in payloads])
        keys = rows["k"].astype(np.int64)
        micros = rows["ts"].astype(np.int64)
        # rows arrive in storage order, which is (symbol, time) when each symbol was loaded in one
        # go; check that in one pass and sort only when it does not hold
        step_k, step_t = np.diff(keys), np.diff(micros)
        if not np.all((step_k > 0) | ((step_k == 0) & (step_t > 0))):
            order = np.lexsort((micros, keys))
            rows, keys, micros = rows[order], keys[order], micros[order]
        stamps = pd.DatetimeIndex(
            (micros + PG_EPOCH_US).view("M8[us]"), name="timestamp"
        ).tz_localize(UTC)
        columns = {
            name: rows[field].astype(np.float64)
            for name, field in zip(BAR_COLUMNS, PRICE_COLUMNS, strict=True)
        }
        bounds = np.searchsorted(keys, np.arange(1, len(symbols) + 2))
        out: dict[str, pd.DataFrame] = {}
        for position, symbol in enumerate(symbols):
            lo, hi = bounds[position], bounds[position + 1]
            out[symbol] = pd.DataFrame(
                {c: columns[c][lo:hi] for c in BAR_COLUMNS}, index=stamps[lo:hi]
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
