"""The feature store: computed features kept per (version, symbol, UTC year) and reused (ADR 0047).

A symbol's stored rows are reused when the bars asked for are the bars they were computed from
(same digest); otherwise the symbol is computed again and its rows of that version replaced in
one transaction. A changed definition is another version, so older versions are never touched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_features import FeatureSet, compute_features

Compute = Callable[[FeatureSet, pd.DataFrame], pd.DataFrame]
_EPOCH = np.datetime64("1970-01-01T00:00:00", "us")


def row_dtype(columns: int) -> np.dtype[Any]:
    """One stored row: little-endian int64 microseconds since 1970 (UTC), then the values."""
    return np.dtype([("ts", "<i8"), ("values", "<f8", (columns,))])


def _micros(stamps: pd.Index) -> npt.NDArray[np.int64]:
    index = pd.DatetimeIndex(stamps).tz_convert("UTC").tz_localize(None)
    return np.asarray(index.as_unit("us").asi8, dtype=np.int64)


def bars_digest(bars: pd.DataFrame) -> str:
    """sha256 of one symbol's bars: timestamps (µs) and OHLCV as little-endian float64."""
    digest = hashlib.sha256()
    digest.update(_micros(bars.index.get_level_values("timestamp")).astype("<i8").tobytes())
    values = bars[["open", "high", "low", "close", "volume"]].to_numpy(dtype="<f8")
    digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


def encode_years(stamps: pd.Index, values: npt.NDArray[np.float64]) -> list[tuple[int, int, bytes]]:
    """(year, rows, packed bytes) per UTC year of one symbol's rows."""
    micros = _micros(stamps)
    rows = np.empty(micros.size, dtype=row_dtype(values.shape[1]))
    rows["ts"] = micros
    rows["values"] = values
    years = micros.astype("datetime64[us]").astype("datetime64[Y]").astype(np.int64) + 1970
    out = []
    for year in np.unique(years):
        block = rows[years == year]
        out.append((int(year), int(block.size), block.tobytes()))
    return out


def decode_blocks(
    payloads: Sequence[bytes], columns: int
) -> tuple[pd.DatetimeIndex, npt.NDArray[np.float64]]:
    """Timestamps (UTC) and values of blocks given in time order."""
    rows = np.frombuffer(b"".join(payloads), dtype=row_dtype(columns))
    stamps = pd.DatetimeIndex(rows["ts"].astype("datetime64[us]")).tz_localize(UTC)
    return stamps, np.array(rows["values"], dtype=np.float64)


@dataclass
class StoreOutcome:
    """What one `features_with_store` call did: which symbols came from the store."""

    version: str
    reused: list[str] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)
    rows: int = 0

    @property
    def hit(self) -> bool:
        return not self.computed


async def _register(
    connection: asyncpg.Connection[Any], feature_set: FeatureSet, version: str
) -> None:
    await connection.execute(
        "INSERT INTO feature_set_versions (version, name, definition, columns) "
        "VALUES ($1, $2, $3::jsonb, $4) ON CONFLICT (version) DO NOTHING",
        version,
        feature_set.name,
        json.dumps(feature_set.definition(), sort_keys=True),
        feature_set.columns,
    )


async def _stored_digests(
    connection: asyncpg.Connection[Any], version: str, symbols: list[str]
) -> dict[str, str]:
    rows = await connection.fetch(
        "SELECT symbol, digest FROM computed_feature_inputs WHERE version = $1 AND symbol = ANY($2)",
        version,
        symbols,
    )
    return {row["symbol"]: row["digest"] for row in rows}


async def load_features(
    connection: asyncpg.Connection[Any], version: str, symbols: list[str], columns: list[str]
) -> dict[str, pd.DataFrame]:
    """The stored rows of `version` for each of `symbols` that has any, indexed by (symbol,
    timestamp); one query for all of them."""
    records = await connection.fetch(
        "SELECT symbol, data FROM computed_features WHERE version = $1 AND symbol = ANY($2) "
        "ORDER BY symbol, year",
        version,
        symbols,
    )
    blocks: dict[str, list[bytes]] = {}
    for record in records:
        blocks.setdefault(record["symbol"], []).append(record["data"])
    out = {}
    for symbol, payloads in blocks.items():
        stamps, values = decode_blocks(payloads, len(columns))
        index = pd.MultiIndex.from_arrays(
            [np.full(stamps.size, symbol, dtype=object), stamps], names=["symbol", "timestamp"]
        )
        out[symbol] = pd.DataFrame(values, index=index, columns=columns)
    return out


async def _save(
    connection: asyncpg.Connection[Any],
    version: str,
    symbol: str,
    digest: str,
    bars: pd.DataFrame,
    frame: pd.DataFrame,
) -> None:
    stamps = frame.index.get_level_values("timestamp")
    blocks = encode_years(stamps, frame.to_numpy(dtype=np.float64))
    async with connection.transaction():
        await connection.execute(
            "DELETE FROM computed_features WHERE version = $1 AND symbol = $2", version, symbol
        )
        await connection.copy_records_to_table(
            "computed_features",
            records=[(version, symbol, year, rows, data) for year, rows, data in blocks],
            columns=["version", "symbol", "year", "rows", "data"],
        )
        bar_stamps = bars.index.get_level_values("timestamp")
        await connection.execute(
            "INSERT INTO computed_feature_inputs (version, symbol, bars, first_ts, last_ts, digest)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (version, symbol) DO UPDATE SET"
            " bars = EXCLUDED.bars, first_ts = EXCLUDED.first_ts, last_ts = EXCLUDED.last_ts,"
            " digest = EXCLUDED.digest, computed_at = now()",
            version,
            symbol,
            len(bars),
            _utc(bar_stamps[0]),
            _utc(bar_stamps[-1]),
            digest,
        )


def _utc(stamp: Any) -> datetime:
    return pd.Timestamp(stamp).tz_convert("UTC").to_pydatetime()


async def features_with_store(
    connection: asyncpg.Connection[Any],
    feature_set: FeatureSet,
    bars: pd.DataFrame,
    compute: Compute = compute_features,
) -> tuple[pd.DataFrame, StoreOutcome]:
    """The set's features for `bars` (indexed by (symbol, timestamp)), from the store where the
    same version was computed from the same bars, else computed with `compute` and stored.

    A cross-sectional set is reused only when every symbol is: its ranks depend on all of them.
    """
    symbols = list(dict.fromkeys(bars.index.get_level_values("symbol")))
    version = feature_set.storage_version(symbols)
    outcome = StoreOutcome(version=version)
    groups = {str(symbol): group for symbol, group in bars.groupby(level="symbol", sort=False)}
    digests = {symbol: bars_digest(groups[symbol]) for symbol in symbols}
    await _register(connection, feature_set, version)
    stored = await _stored_digests(connection, version, symbols)
    fresh = [s for s in symbols if stored.get(s) == digests[s]]
    parts: dict[str, pd.DataFrame] = {}
    if fresh:
        parts = await load_features(connection, version, fresh, feature_set.columns)
        fresh = [s for s in fresh if s in parts]  # an input row whose blocks were deleted
    if feature_set.cross_sectional and len(fresh) < len(symbols):
        fresh, parts = [], {}
    stale = [s for s in symbols if s not in fresh]
    if stale:
        computed = compute(feature_set, pd.concat([groups[s] for s in stale]))
        for symbol, frame in computed.groupby(level="symbol", sort=False):
            await _save(
                connection, version, str(symbol), digests[str(symbol)], groups[str(symbol)], frame
            )
            parts[str(symbol)] = frame
    outcome.reused, outcome.computed = fresh, stale
    result = pd.concat([parts[s] for s in symbols]) if parts else pd.DataFrame()
    outcome.rows = len(result)
    return result, outcome
