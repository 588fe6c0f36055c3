"""Bar files: CSV (optionally gzipped) and parquet files read into raw bars."""

from __future__ import annotations

from typing import IO

import numpy as np
import pandas as pd

from quant_domain import DataQualityError
from quant_marketdata.raw_bars import BAR_COLUMNS, TIMESTAMP, RawBars
from quant_marketdata.timestamps import infer_timeframe, parse_timestamps, session_labels

BAR_FILE_SUFFIXES: tuple[str, ...] = (".csv.gz", ".csv", ".parquet")
TIMESTAMP_NAMES: tuple[str, ...] = ("date", "datetime", "timestamp", "time")
REQUIRED_PRICES: tuple[str, ...] = ("open", "high", "low", "close")


def bar_file_symbol(file_name: str) -> str | None:
    """The symbol a file serves ("GOOG.csv.gz" -> "GOOG"), or None when it is not a bar file."""
    lowered = file_name.lower()
    for suffix in BAR_FILE_SUFFIXES:
        if lowered.endswith(suffix) and len(file_name) > len(suffix):
            return file_name[: -len(suffix)]
    return None


def read_bar_file(name: str, stream: IO[bytes]) -> RawBars:
    """Read the bars in `stream`, whose file is called `name` (its suffix picks the format).

    Column names are matched case-insensitively; extra columns (e.g. "Adj Close") are ignored and
    a missing volume column reads as 0.0. Cells that are empty or not numbers become NaN and
    unreadable timestamps NaT, so the structural checks can name their lines.

    Raises:
        DataQualityError: the file cannot be parsed or lacks a timestamp or price column.
    """
    is_parquet = name.lower().endswith(".parquet")
    table = _read_parquet(name, stream) if is_parquet else _read_csv(name, stream)
    header_at = name if is_parquet else f"{name}:1"
    columns = _match_columns(name, header_at, table)
    parsed = parse_timestamps(table[columns[TIMESTAMP]])
    timeframe = infer_timeframe(parsed.utc)
    stamps = parsed.utc if timeframe.is_intraday else session_labels(parsed)
    data: dict[str, object] = {TIMESTAMP: stamps}
    for column in BAR_COLUMNS:
        source = columns.get(column)
        if source is None:
            data[column] = np.zeros(len(table), dtype=np.float64)
        else:
            numbers = pd.to_numeric(table[source], errors="coerce")
            data[column] = np.asarray(numbers, dtype=np.float64)
    frame = pd.DataFrame(data)
    if is_parquet:
        return RawBars(frame, timeframe, origin=name, first_line=1, row_prefix="row ")
    return RawBars(frame, timeframe, origin=name)


def _read_csv(name: str, stream: IO[bytes]) -> pd.DataFrame:
    try:
        # Blank lines are kept (as empty rows) so row i stays on line i + 2 of the file.
        table = pd.read_csv(
            stream,
            compression="gzip" if name.lower().endswith(".gz") else None,
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError as exc:
        raise DataQualityError(f"{name}:1: file is empty; expected a header line") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataQualityError(f"{name}: cannot parse as CSV: {exc}", [f"{name}: {exc}"]) from exc
    filled = np.flatnonzero(table.notna().any(axis=1).to_numpy())
    keep = int(filled[-1]) + 1 if filled.size else 0
    return table.iloc[:keep].reset_index(drop=True)


def _read_parquet(name: str, stream: IO[bytes]) -> pd.DataFrame:
    try:
        table = pd.read_parquet(stream)
    except (OSError, ValueError) as exc:
        raise DataQualityError(
            f"{name}: cannot read as parquet: {exc}", [f"{name}: {exc}"]
        ) from exc
    if not isinstance(table.index, pd.RangeIndex):
        if table.index.name is None:
            table.index = table.index.rename(TIMESTAMP)
        table = table.reset_index()
    return table


def _match_columns(name: str, header_at: str, table: pd.DataFrame) -> dict[str, str]:
    """Map each wanted column (timestamp, open, ..., volume) to the file's own header."""
    by_lower: dict[str, str] = {}
    for header in table.columns:
        key = str(header).strip().lower()
        if key in by_lower and key in (*TIMESTAMP_NAMES, *BAR_COLUMNS):
            raise DataQualityError(
                f"{header_at}: columns {by_lower[key]!r} and {header!r} are the same name;"
                " keep one",
                [f"{header_at}: duplicate column {key!r}"],
            )
        by_lower.setdefault(key, str(header))
    columns = {column: by_lower[column] for column in BAR_COLUMNS if column in by_lower}
    stamp = next((by_lower[n] for n in TIMESTAMP_NAMES if n in by_lower), None)
    if stamp is None:
        stamp = next((str(h) for h in table.columns if _is_unnamed(str(h))), None)
    missing = [c for c in REQUIRED_PRICES if c not in columns]
    if stamp is None:
        missing.insert(0, "timestamp (date, datetime, timestamp, time or an unnamed first column)")
    if missing:
        found = ", ".join(repr(str(h)) for h in table.columns) or "none"
        problems = [f"{header_at}: missing column {m}" for m in missing]
        raise DataQualityError(
            f"{header_at}: missing column(s) {', '.join(missing)}; found {found}", problems
        )
    columns[TIMESTAMP] = str(stamp)
    return columns


def _is_unnamed(header: str) -> bool:
    return header.strip() == "" or header.startswith("Unnamed: ")
