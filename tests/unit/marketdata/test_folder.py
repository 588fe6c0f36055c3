"""FolderSource: reading CSV, gzipped CSV and parquet files, and refusing bad ones by line."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from quant_domain import DataError, DataNotFoundError, DataQualityError, Instrument, Timeframe
from quant_marketdata import FolderSource

HEADER = "Date,Open,High,Low,Close,Volume"
GOOD_ROWS = [
    "2024-01-02,10,11,9,10.5,100",
    "2024-01-03,10.5,12,10,11.5,200",
    "2024-01-04,11.5,12,11,11,150",
    "2024-01-05,11,11.5,10.5,11.2,120",
]


def write(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_folder_csv_reads_bars_at_midnight_utc(tmp_path: Path) -> None:
    write(tmp_path, "ABC.csv", [HEADER, *GOOD_ROWS])
    bars = FolderSource(tmp_path).get_bars("ABC")
    assert bars.index[0] == pd.Timestamp("2024-01-02", tz="UTC")
    assert str(bars.index.dtype) == "datetime64[us, UTC]"
    assert bars.iloc[1].tolist() == [10.5, 12.0, 10.0, 11.5, 200.0]


def test_folder_csv_mixed_case_headers_and_adj_close_are_handled(tmp_path: Path) -> None:
    lines = [
        "DATE,oPEN,High,LOW,Close,Adj Close",
        "1/4/1999,10,11,9,10.5,99",
        "1/5/1999,1,2,1,2,99",
    ]
    write(tmp_path, "ABC.csv", lines)
    bars = FolderSource(tmp_path).get_bars("ABC")
    assert list(bars.index.strftime("%Y-%m-%d")) == ["1999-01-04", "1999-01-05"]
    assert bars.iloc[0].tolist() == [10.0, 11.0, 9.0, 10.5, 0.0]


def test_folder_csv_unnamed_first_column_is_the_timestamp(tmp_path: Path) -> None:
    lines = [",Open,High,Low,Close,Volume", "2017-04-19 09:00:00,1.07,1.08,1.06,1.075,10",
             "2017-04-19 10:00:00,1.075,1.09,1.07,1.08,12"]  # fmt: skip
    write(tmp_path, "EURUSD.csv", lines)
    source = FolderSource(tmp_path)
    bars = source.get_bars("EURUSD")
    assert bars.index[1] == pd.Timestamp("2017-04-19 10:00", tz="UTC")
    assert source.native_timeframe("EURUSD") == Timeframe.parse("1h")


@pytest.mark.parametrize("column", ["datetime", "timestamp", "time"])
def test_folder_csv_any_timestamp_column_name_is_accepted(tmp_path: Path, column: str) -> None:
    write(tmp_path, "ABC.csv", [f"{column},open,high,low,close", "2024-01-02,1,2,1,2"])
    assert FolderSource(tmp_path).get_bars("ABC").index[0] == pd.Timestamp("2024-01-02", tz="UTC")


def test_folder_csv_intraday_offsets_convert_to_utc(tmp_path: Path) -> None:
    lines = [
        "time,open,high,low,close,volume",
        "2024-01-02T09:30:00-05:00,1,2,1,2,5",
        "2024-01-02T09:35:00-05:00,2,3,2,3,5",
        "2024-07-02T09:30:00-04:00,3,4,3,4,5",
    ]
    write(tmp_path, "ABC.csv", lines)
    source = FolderSource(tmp_path)
    index = source.get_bars("ABC").index
    assert list(index.strftime("%Y-%m-%d %H:%M")) == [
        "2024-01-02 14:30", "2024-01-02 14:35", "2024-07-02 13:30"
    ]  # fmt: skip
    assert source.native_timeframe("ABC") == Timeframe.parse("5m")


def test_folder_csv_daily_with_offset_keeps_the_written_session_date(tmp_path: Path) -> None:
    lines = ["date,open,high,low,close", "2024-01-02T00:00:00+09:00,1,2,1,2",
             "2024-01-03T00:00:00+09:00,2,3,2,3"]  # fmt: skip
    write(tmp_path, "ABC.csv", lines)
    index = FolderSource(tmp_path).get_bars("ABC").index
    assert list(index) == [
        pd.Timestamp("2024-01-02", tz="UTC"),
        pd.Timestamp("2024-01-03", tz="UTC"),
    ]


def test_folder_csv_gz_reads_like_plain_csv(tmp_path: Path) -> None:
    text = "\n".join([HEADER, *GOOD_ROWS]) + "\n"
    (tmp_path / "ABC.csv.gz").write_bytes(gzip.compress(text.encode()))
    bars = FolderSource(tmp_path).get_bars("ABC")
    assert len(bars) == 4
    assert bars["close"].iloc[-1] == 11.2


def test_folder_parquet_with_datetime_index_round_trips(tmp_path: Path) -> None:
    index = pd.DatetimeIndex(["2024-01-02 14:30", "2024-01-02 14:31"], tz="UTC", name="Date")
    frame = pd.DataFrame(
        {"Open": [1.0, 2.0], "High": [2.0, 3.0], "Low": [1.0, 2.0], "Close": [2.0, 3.0],
         "Volume": [5, 6]}, index=index,
    )  # fmt: skip
    frame.to_parquet(tmp_path / "XYZ.parquet")
    source = FolderSource(tmp_path)
    bars = source.get_bars("XYZ")
    assert bars.index[1] == pd.Timestamp("2024-01-02 14:31", tz="UTC")
    assert bars["volume"].tolist() == [5.0, 6.0]
    assert source.native_timeframe("XYZ") == Timeframe.parse("1m")


def test_folder_parquet_problem_names_file_and_row(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"date": ["2024-01-02", "2024-01-03"], "open": [1.0, 2.0], "high": [2.0, 1.0],
         "low": [1.0, 1.5], "close": [2.0, 1.8]}
    )  # fmt: skip
    frame.to_parquet(tmp_path / "XYZ.parquet")
    with pytest.raises(DataQualityError) as caught:
        FolderSource(tmp_path).get_bars("XYZ")
    assert caught.value.problems == ["XYZ.parquet:row 2 high_below_low: high 1 is below low 1.5"]


@pytest.mark.parametrize(
    ("bad_row", "check"),
    [
        ("2024-01-04,11.5,12,11,,150", "missing_value"),
        ("not-a-date,11.5,12,11,11,150", "missing_value"),
        ("2024-01-04,0,12,11,11,150", "non_positive_price"),
        ("2024-01-04,11.5,10,11,10.5,150", "high_below_low"),
        ("2024-01-04,11.5,12,11,12.5,150", "ohlc_inconsistent"),
        ("2024-01-04,11.5,12,11,11,-1", "negative_volume"),
        ("2024-01-03,11.5,12,11,11,150", "duplicate_timestamp"),
        ("2024-01-01,11.5,12,11,11,150", "unordered_timestamp"),
    ],
)
def test_folder_structural_problem_names_file_line_and_check(
    tmp_path: Path, bad_row: str, check: str
) -> None:
    rows = [*GOOD_ROWS[:2], bad_row, GOOD_ROWS[3]]  # the bad row is line 4 (header is line 1)
    write(tmp_path, "BAD.csv", [HEADER, *rows])
    with pytest.raises(DataQualityError) as caught:
        FolderSource(tmp_path).get_bars("BAD")
    assert f"BAD.csv:4 {check}:" in str(caught.value)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"BAD.csv:4 {check}: ")


def test_folder_every_structural_problem_is_listed_in_line_order(tmp_path: Path) -> None:
    rows = ["2024-01-02,10,11,9,10.5,-5", GOOD_ROWS[1], "2024-01-04,0,12,11,11,1",
            "2024-01-05,11,10,10.5,11,1"]  # fmt: skip
    write(tmp_path, "BAD.csv", [HEADER, *rows])
    with pytest.raises(DataQualityError) as caught:
        FolderSource(tmp_path).get_bars("BAD")
    assert [p.split(":", 2)[1] for p in caught.value.problems] == [
        "2 negative_volume", "4 non_positive_price", "5 high_below_low"
    ]  # fmt: skip


def test_folder_blank_line_is_reported_on_its_own_line(tmp_path: Path) -> None:
    write(tmp_path, "BAD.csv", [HEADER, GOOD_ROWS[0], "", "2024-01-04,0,12,11,11,1"])
    with pytest.raises(DataQualityError) as caught:
        FolderSource(tmp_path).get_bars("BAD")
    assert caught.value.problems == [
        "BAD.csv:3 missing_value: timestamp, open, high, low, close, volume missing or not "
        "readable",
        "BAD.csv:4 non_positive_price: open 0 must be > 0",
    ]


def test_folder_missing_close_column_names_file_and_header_line(tmp_path: Path) -> None:
    write(tmp_path, "ABC.csv", ["date,open,high,low", "2024-01-02,1,2,1"])
    with pytest.raises(DataQualityError, match=r"ABC\.csv:1: missing column\(s\) close"):
        FolderSource(tmp_path).get_bars("ABC")


def test_folder_unknown_symbol_names_folder_and_available_symbols(tmp_path: Path) -> None:
    write(tmp_path, "ABC.csv", [HEADER, *GOOD_ROWS])
    write(tmp_path, "DEF.csv", [HEADER, *GOOD_ROWS])
    write(tmp_path, "notes.txt", ["not data"])
    with pytest.raises(DataNotFoundError) as caught:
        FolderSource(tmp_path).get_bars("XYZ")
    assert str(tmp_path) in str(caught.value)
    assert "available: ABC, DEF" in str(caught.value)


def test_folder_missing_folder_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="does not exist"):
        FolderSource(tmp_path / "nowhere")


def test_folder_symbols_lists_each_bar_file_once(tmp_path: Path) -> None:
    write(tmp_path, "ABC.csv", [HEADER, *GOOD_ROWS])
    (tmp_path / "DEF.csv.gz").write_bytes(gzip.compress(b"date,open,high,low,close\n"))
    write(tmp_path, "README.md", ["# data"])
    assert FolderSource(tmp_path).symbols() == ["ABC", "DEF"]


def test_folder_two_files_for_one_symbol_raise_data_error(tmp_path: Path) -> None:
    write(tmp_path, "ABC.csv", [HEADER, *GOOD_ROWS])
    (tmp_path / "ABC.csv.gz").write_bytes(gzip.compress(b"date,open,high,low,close\n"))
    with pytest.raises(DataError, match="keep only one"):
        FolderSource(tmp_path).get_bars("ABC")


def test_folder_loaded_bars_are_cached_per_instance(tmp_path: Path) -> None:
    path = write(tmp_path, "ABC.csv", [HEADER, *GOOD_ROWS])
    source = FolderSource(tmp_path)
    first = source.get_bars("ABC")
    path.write_text(HEADER + "\n2024-01-02,1,1,1,1,1\n", encoding="utf-8")
    pd.testing.assert_frame_equal(source.get_bars("ABC"), first)
    assert len(FolderSource(tmp_path).get_bars("ABC")) == 1


def test_folder_returned_frame_changes_do_not_reach_the_cache(tmp_path: Path) -> None:
    write(tmp_path, "ABC.csv", [HEADER, *GOOD_ROWS])
    source = FolderSource(tmp_path)
    bars = source.get_bars("ABC")
    bars["close"] = 0.0
    assert source.get_bars("ABC")["close"].iloc[0] == 10.5


def test_folder_finer_timeframe_than_native_raises_data_error(tmp_path: Path) -> None:
    write(tmp_path, "ABC.csv", [HEADER, *GOOD_ROWS])
    with pytest.raises(DataError, match="finer timeframe 1h"):
        FolderSource(tmp_path).get_bars("ABC", timeframe=Timeframe.parse("1h"))


def test_folder_instrument_defaults_to_xnys_equity_unless_told(tmp_path: Path) -> None:
    told = Instrument("BTC", calendar=None)
    source = FolderSource(tmp_path, instruments={"BTC": told})
    assert source.instrument("ABC").calendar == "XNYS"
    assert source.instrument("BTC") is told


def test_folder_instrument_defaults_to_cent_ticks_whole_lots_and_shortable(tmp_path: Path) -> None:
    instrument = FolderSource(tmp_path).instrument("ABC")
    assert (instrument.tick_size, instrument.lot_size, instrument.shortable) == (
        Decimal("0.01"),
        Decimal(1),
        True,
    )
