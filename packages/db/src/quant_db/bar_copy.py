"""The binary COPY layout of price_bars rows: (symbol index int4, ts timestamptz, 5 x float8).

Every field has a fixed width, so numpy writes a whole load and reads a whole result in one
pass instead of building row objects. The one codec for both directions: ingestion encodes,
the database source decodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
"""Signature, flags and header-extension length (19 bytes)."""
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
PG_EPOCH_US = 946_684_800_000_000
"""2000-01-01, PostgreSQL's timestamp epoch, in microseconds since 1970-01-01."""
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
"""The float columns of a row, in order (price_bars' own names)."""

BAR_ROW = np.dtype(
    [("fields", ">i2"), ("l_k", ">i4"), ("k", ">i4"), ("l_ts", ">i4"), ("ts", ">i8")]
    + [item for c in PRICE_COLUMNS for item in ((f"l_{c}", ">i4"), (c, ">f8"))]
)
"""One row: field count, then each field's byte length and value."""


def encode_bar_rows(
    groups: Sequence[tuple[npt.NDArray[np.int64], Mapping[str, npt.NDArray[np.float64]]]],
) -> bytes:
    """The COPY stream for `groups` of (microseconds since 1970, PRICE_COLUMNS arrays).

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
        for column in PRICE_COLUMNS:
            rows[column][at : at + n] = values[column]
        at += n
    return COPY_HEADER + rows.tobytes() + COPY_TRAILER


def decode_bar_rows(payload: bytes) -> npt.NDArray[np.void]:
    """The rows of a COPY result in this layout, as a read-only structured array over `payload`."""
    body = len(payload) - len(COPY_HEADER) - len(COPY_TRAILER)
    return np.frombuffer(
        payload, dtype=BAR_ROW, offset=len(COPY_HEADER), count=body // BAR_ROW.itemsize
    )
