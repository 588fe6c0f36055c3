"""The binary layouts of bars in PostgreSQL: COPY rows for loading, packed year blocks for reading.

Every field has a fixed width, so numpy writes a whole load and reads a whole result in one
pass instead of building row objects. The one codec for both directions: ingestion encodes,
the database source decodes. Prices are float8 end to end (ADR 0012).

- staging rows (`encode_bar_rows`): symbol index int4, ts timestamptz, five float8; merged
  into price_bars when a load may overlap stored bars;
- price_bars rows (`encode_price_bar_rows`): the table's own columns, COPYed straight in when
  the load is new;
- blocks (`encode_blocks`, `decode_blocks`): one bytea per (symbol, timeframe, UTC year) in
  price_blocks, BLOCK_ROW after BLOCK_ROW in time order; BLOCK_SQL builds the same bytes on the
  server from price_bars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
"""Signature, flags and header-extension length (19 bytes)."""
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
PG_EPOCH_US = 946_684_800_000_000
"""2000-01-01, PostgreSQL's timestamp epoch, in microseconds since 1970-01-01."""
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
"""The float columns of a row, in order (price_bars' own names)."""

_FLOATS = [item for c in PRICE_COLUMNS for item in ((f"l_{c}", ">i4"), (c, ">f8"))]
BAR_ROW = np.dtype(
    [("fields", ">i2"), ("l_k", ">i4"), ("k", ">i4"), ("l_ts", ">i4"), ("ts", ">i8"), *_FLOATS]
)
"""One staging row: field count, then each field's byte length and value."""

BLOCK_ROW = np.dtype([("ts", ">i8")] + [(c, ">f8") for c in PRICE_COLUMNS])
"""One bar inside a block: microseconds since 1970 (UTC), then the five prices, big-endian
(the byte order of PostgreSQL's int8send/float8send, so the server can build blocks too)."""

BLOCK_SQL = (
    "string_agg(int8send((extract(epoch FROM {p}.ts) * 1000000)::int8)"
    + "".join(f" || float8send({{p}}.{c})" for c in PRICE_COLUMNS)
    + ", ''::bytea ORDER BY {p}.ts)"
)
"""The aggregate that packs price_bars rows (alias {p}) into one block, byte for byte what
`encode_blocks` writes."""

Columns = Mapping[str, npt.NDArray[np.float64]]


@dataclass(frozen=True, slots=True)
class Block:
    """One (symbol, timeframe, year) block ready for COPY into price_blocks."""

    symbol: str
    timeframe: str
    year: int
    bars: int
    data: bytes


def _fill_prices(rows: npt.NDArray[np.void], at: int, values: Columns) -> None:
    n = next(iter(values.values())).size
    for column in PRICE_COLUMNS:
        rows[column][at : at + n] = values[column]


def encode_bar_rows(groups: Sequence[tuple[npt.NDArray[np.int64], Columns]]) -> bytes:
    """The staging COPY stream for `groups` of (microseconds since 1970, PRICE_COLUMNS arrays).

    Rows of group i carry the symbol index i + 1 (1-based, as SQL arrays are).
    """
    rows = np.empty(sum(ts_us.size for ts_us, _ in groups), dtype=BAR_ROW)
    rows["fields"] = 2 + len(PRICE_COLUMNS)
    rows["l_k"] = 4
    rows["l_ts"] = 8
    for column in PRICE_COLUMNS:
        rows[f"l_{column}"] = 8
    at = 0
    for k, (ts_us, values) in enumerate(groups, 1):
        n = ts_us.size
        rows["k"][at : at + n] = k
        rows["ts"][at : at + n] = ts_us - PG_EPOCH_US
        _fill_prices(rows, at, values)
        at += n
    return COPY_HEADER + rows.tobytes() + COPY_TRAILER


PRICE_BAR_COPY_COLUMNS: tuple[str, ...] = (
    "symbol",
    "timeframe",
    "ts",
    *PRICE_COLUMNS,
    "source",
    "ingestion_run_id",
)
"""The price_bars columns `encode_price_bar_rows` writes, in order."""


def _text(name: str, value: str) -> list[tuple[str, str]]:
    return [(f"l_{name}", ">i4"), (name, f"S{len(value.encode())}")]


def encode_price_bar_rows(
    groups: Sequence[tuple[str, str, npt.NDArray[np.int64], Columns]], source: str, run_id: int
) -> bytes:
    """The COPY stream of price_bars rows (PRICE_BAR_COPY_COLUMNS) for `groups` of
    (symbol, timeframe, microseconds since 1970, PRICE_COLUMNS arrays).

    Text fields have one width per group, so each group is still one fixed-width numpy array.
    """
    parts = [COPY_HEADER]
    for symbol, timeframe, ts_us, values in groups:
        row = np.dtype(
            [
                ("fields", ">i2"),
                *_text("symbol", symbol),
                *_text("timeframe", timeframe),
                ("l_ts", ">i4"),
                ("ts", ">i8"),
                *_FLOATS,
                *_text("source", source),
                ("l_run", ">i4"),
                ("run", ">i8"),
            ]
        )
        rows = np.empty(ts_us.size, dtype=row)
        rows["fields"] = len(PRICE_BAR_COPY_COLUMNS)
        for name, text in (("symbol", symbol), ("timeframe", timeframe), ("source", source)):
            rows[f"l_{name}"] = len(text.encode())
            rows[name] = text.encode()
        rows["l_ts"] = 8
        rows["ts"] = ts_us - PG_EPOCH_US
        for column in PRICE_COLUMNS:
            rows[f"l_{column}"] = 8
        _fill_prices(rows, 0, values)
        rows["l_run"] = 8
        rows["run"] = run_id
        parts.append(rows.tobytes())
    parts.append(COPY_TRAILER)
    return b"".join(parts)


def utc_years(ts_us: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The UTC calendar year of each timestamp (microseconds since 1970)."""
    return ts_us.astype("M8[us]").astype("M8[Y]").astype(np.int64) + 1970


def encode_blocks(
    symbol: str, timeframe: str, ts_us: npt.NDArray[np.int64], values: Columns
) -> list[Block]:
    """One symbol's bars (in time order) cut into one block per UTC year."""
    rows = np.empty(ts_us.size, dtype=BLOCK_ROW)
    rows["ts"] = ts_us
    _fill_prices(rows, 0, values)
    years = utc_years(ts_us)
    cuts = np.flatnonzero(np.diff(years)) + 1
    starts = np.concatenate(([0], cuts)).astype(np.int64)
    ends = np.concatenate((cuts, [ts_us.size])).astype(np.int64)
    return [
        Block(symbol, timeframe, int(years[lo]), int(hi - lo), rows[lo:hi].tobytes())
        for lo, hi in zip(starts, ends, strict=True)
        if hi > lo
    ]


def decode_blocks(payloads: Sequence[bytes]) -> npt.NDArray[np.void]:
    """The bars of consecutive blocks, as one structured BLOCK_ROW array."""
    return np.frombuffer(b"".join(payloads), dtype=BLOCK_ROW)
