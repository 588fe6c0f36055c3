"""Bars from PostgreSQL (the price_bars table the data service fills), as a DataSource."""

from __future__ import annotations

import asyncio
import atexit
from datetime import UTC, datetime
from typing import Any

import asyncpg
import numpy as np
import pandas as pd

from quant_db.urls import asyncpg_dsn
from quant_domain import DataNotFoundError, Timeframe
from quant_marketdata import BAR_COLUMNS, DataSource, resample_bars

# binary COPY rows of (symbol index int4, ts timestamptz, 5 x float8): every field has a fixed
# width, so numpy reads the whole result with one frombuffer instead of building row objects
_ROW = np.dtype(
    [("fields", ">i2"), ("l0", ">i4"), ("k", ">i4"), ("l1", ">i4"), ("ts", ">i8")]
    + [item for c in BAR_COLUMNS for item in ((f"l_{c}", ">i4"), (c, ">f8"))]
)
_HEADER = 19  # "PGCOPY\n\xff\r\n\0" + flags + header-extension length
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in microseconds since 1970-01-01


class DatabaseSource(DataSource):
    """Reads price_bars; bars are stored exactly (NUMERIC) and handed out as float64 frames."""

    name = "db"

    def __init__(self, url: str) -> None:
        self._dsn = asyncpg_dsn(url)
        self._symbols: list[str] | None = None
        self._timeframes: dict[str, str] = {}
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

    async def _catalogue(self) -> None:
        connection = await self._connect()
        rows = await connection.fetch(
            "SELECT symbol, min(timeframe) AS timeframe FROM price_bars GROUP BY symbol ORDER BY symbol"
        )
        self._symbols = [r["symbol"] for r in rows]
        self._timeframes = {r["symbol"]: r["timeframe"] for r in rows}

    def symbols(self) -> list[str]:
        if self._symbols is None:
            self._run(self._catalogue())
        return list(self._symbols or [])

    def native_timeframe(self, symbol: str) -> Timeframe:
        self._require(symbol)
        return Timeframe.parse(self._timeframes[symbol])

    def _require(self, symbol: str) -> None:
        if symbol not in self.symbols():
            known = ", ".join(self.symbols()[:12]) or "none: run `quant data ingest` first"
            raise DataNotFoundError(f"no bars for {symbol!r} in the database; it has {known}")

    async def _copy_one(
        self,
        connection: asyncpg.Connection[Any],
        symbols: list[str],
        first_k: int,
        start: datetime | None,
        end: datetime | None,
    ) -> bytes:
        chunks: list[bytes] = []

        async def sink(chunk: bytes) -> None:
            chunks.append(chunk)

        # a hash join on the wanted symbols, not `= ANY(array)`, which compares every row with
        # every name; the ordinality gives each row its symbol's position in `symbols`
        await connection.copy_from_query(
            "SELECT (s.k + $4)::int4, p.ts, p.open_f, p.high_f, p.low_f, p.close_f, p.volume_f "
            "FROM price_bars p JOIN unnest($1::text[]) WITH ORDINALITY AS s(symbol, k) "
            "ON p.symbol = s.symbol "
            "WHERE ($2::timestamptz IS NULL OR p.ts >= $2) AND ($3::timestamptz IS NULL OR p.ts <= $3)",
            symbols,
            start,
            end,
            first_k - 1,
            output=sink,
            format="binary",
        )
        return b"".join(chunks)

    async def _copy(
        self, symbols: list[str], start: datetime | None, end: datetime | None
    ) -> list[bytes]:
        """Half the symbols on a second connection, concurrently: the server encodes rows on two cores."""
        if len(symbols) < 8:
            return [await self._copy_one(await self._connect(), symbols, 1, start, end)]
        if self._second is None or self._second.is_closed():
            self._second = await asyncpg.connect(self._dsn)
        half = len(symbols) // 2
        first, second = await asyncio.gather(
            self._copy_one(await self._connect(), symbols[:half], 1, start, end),
            self._copy_one(self._second, symbols[half:], half + 1, start, end),
        )
        return [first, second]

    def get_many(
        self, symbols: list[str], start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, pd.DataFrame]:
        """Several symbols' bars (native timeframes) in one read."""
        for symbol in symbols:
            self._require(symbol)
        payloads = self._run(self._copy(symbols, start, end))
        rows = np.concatenate(
            [
                np.frombuffer(
                    p, dtype=_ROW, offset=_HEADER, count=(len(p) - _HEADER - 2) // _ROW.itemsize
                )
                for p in payloads
            ]
        )
        keys = rows["k"].astype(np.int64)
        micros = rows["ts"].astype(np.int64)
        # rows arrive in storage order, which is (symbol, time) when each symbol was loaded in one
        # go; check that in one pass and sort only when it does not hold
        step_k, step_t = np.diff(keys), np.diff(micros)
        if not np.all((step_k > 0) | ((step_k == 0) & (step_t > 0))):
            order = np.lexsort((micros, keys))
            rows, keys, micros = rows[order], keys[order], micros[order]
        stamps = pd.DatetimeIndex(
            (micros + _PG_EPOCH_US).view("M8[us]"), name="timestamp"
        ).tz_localize(UTC)
        columns = {c: rows[c].astype(np.float64) for c in BAR_COLUMNS}
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
        native = self.native_timeframe(symbol)
        if timeframe is not None and timeframe != native:
            return resample_bars(frame, native, timeframe)
        return frame
