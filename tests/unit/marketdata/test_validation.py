"""Validation: calendar gaps and extra days on real data, structural findings, and the report."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from quant_domain import ConfigError, DataNotFoundError
from quant_marketdata import (
    Check,
    FolderSource,
    ValidationProblem,
    ValidationReport,
    validate_bars,
    validate_source,
)
from quant_marketdata.samples import sample_data_folder


def sp500_lines() -> list[str]:
    data = sample_data_folder().joinpath("sp500.csv.gz").read_bytes()
    return gzip.decompress(data).decode().splitlines()


def write_lines(folder: Path, name: str, lines: list[str]) -> None:
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def raw_frame(stamps: list[str], closes: list[float] | None = None) -> pd.DataFrame:
    closes = closes or [10.0] * len(stamps)
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(stamps, tz="UTC").as_unit("us"),
            "open": closes,
            "high": [c + 1 for c in closes],
            "low": [c - 1 for c in closes],
            "close": closes,
            "volume": [1.0] * len(closes),
        }
    )


def test_validation_dropped_sp500_session_is_reported_missing(tmp_path: Path) -> None:
    lines = [line for line in sp500_lines() if not line.startswith("9/15/2008,")]
    write_lines(tmp_path, "SP500.csv", lines)
    report = validate_source(FolderSource(tmp_path))
    assert report.problems["SP500"] == (
        ValidationProblem(
            "SP500",
            Check.MISSING_SESSION,
            pd.Timestamp("2008-09-15", tz="UTC"),
            None,
            "XNYS session 2008-09-15 (Monday) has no bar",
        ),
    )
    assert report.bars["SP500"] == 5030
    assert report.structural == []
    assert not report.ok


def test_validation_weekend_bar_is_reported_with_its_line(tmp_path: Path) -> None:
    lines = sp500_lines()
    friday = next(k for k, line in enumerate(lines) if line.startswith("9/12/2008,"))
    saturday = "9/13/2008," + lines[friday].split(",", 1)[1]
    lines.insert(friday + 1, saturday)
    write_lines(tmp_path, "SP500.csv", lines)
    (problem,) = validate_source(FolderSource(tmp_path)).problems["SP500"]
    assert problem.check is Check.NON_SESSION_BAR
    assert problem.location == f"SP500.csv:{friday + 2}"
    assert problem.timestamp == pd.Timestamp("2008-09-13", tz="UTC")
    assert problem.detail == "bar on 2008-09-13 (Saturday), which is not a XNYS session"


def test_validation_without_calendar_skips_calendar_checks() -> None:
    frame = raw_frame(["2024-01-06", "2024-01-07", "2024-01-09"])  # Saturday, Sunday, Tuesday
    assert validate_bars(frame, "X", None) == []
    checks = [p.check for p in validate_bars(frame, "X", "XNYS")]
    assert checks == [Check.NON_SESSION_BAR, Check.NON_SESSION_BAR, Check.MISSING_SESSION]


def test_validation_intraday_bars_are_checked_day_by_day() -> None:
    stamps = ["2024-01-08 15:00", "2024-01-08 16:00", "2024-01-10 15:00", "2024-01-10 16:00",
              "2024-01-13 15:00", "2024-01-13 16:00"]  # fmt: skip
    problems = validate_bars(raw_frame(stamps), "X", "XNYS", locate=lambda row: f"f.csv:{row + 2}")
    assert [(p.check, p.timestamp, p.location) for p in problems] == [
        (Check.MISSING_SESSION, pd.Timestamp("2024-01-09", tz="UTC"), None),
        (Check.MISSING_SESSION, pd.Timestamp("2024-01-11", tz="UTC"), None),
        (Check.MISSING_SESSION, pd.Timestamp("2024-01-12", tz="UTC"), None),
        (Check.NON_SESSION_BAR, pd.Timestamp("2024-01-13 15:00", tz="UTC"), "f.csv:6"),
    ]


def test_validation_structural_problems_come_in_row_order_with_timestamps() -> None:
    frame = raw_frame(["2024-01-03", "2024-01-02", "2024-01-02", "2024-01-04"])
    frame.loc[3, "volume"] = -2.0
    frame.loc[0, "timestamp"] = pd.NaT
    problems = validate_bars(frame, "X", None)
    assert [(p.check, p.timestamp) for p in problems] == [
        (Check.MISSING_VALUE, None),
        (Check.DUPLICATE_TIMESTAMP, pd.Timestamp("2024-01-02", tz="UTC")),
        (Check.NEGATIVE_VOLUME, pd.Timestamp("2024-01-04", tz="UTC")),
    ]
    assert problems[1].detail == "2024-01-02 00:00:00+00:00 repeats the bar at row 1"


def test_validation_unknown_calendar_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown trading calendar 'NOPE'"):
        validate_bars(raw_frame(["2024-01-02"]), "X", "NOPE")


def test_validate_source_structural_problems_are_reported_not_raised(tmp_path: Path) -> None:
    write_lines(tmp_path, "BAD.csv", ["date,open,high,low,close", "2024-01-02,1,0.5,1,1"])
    write_lines(tmp_path, "NOCLOSE.csv", ["date,open,high,low", "2024-01-02,1,2,1"])
    report = validate_source(FolderSource(tmp_path))
    assert [str(p) for p in report.problems["BAD"]] == [
        "BAD.csv:2 high_below_low: high 0.5 is below low 1"
    ]
    (unreadable,) = report.problems["NOCLOSE"]
    assert unreadable.check is Check.UNREADABLE
    assert "NOCLOSE.csv:1: missing column(s) close" in unreadable.detail
    assert report.counts == {Check.UNREADABLE: 1, Check.HIGH_BELOW_LOW: 1}
    assert len(report.structural) == 2


def test_validate_source_only_requested_symbols_are_checked(tmp_path: Path) -> None:
    write_lines(tmp_path, "AAA.csv", ["date,open,high,low,close", "2024-01-02,1,2,1,1"])
    write_lines(tmp_path, "BBB.csv", ["date,open,high,low,close", "2024-01-02,1,0.5,1,1"])
    report = validate_source(FolderSource(tmp_path), ["AAA"])
    assert report.symbols == ["AAA"]
    assert report.ok


def test_validate_source_unknown_symbol_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError):
        validate_source(FolderSource(tmp_path), ["ZZZ"])


def test_validation_report_render_lists_symbols_problems_and_verdict() -> None:
    problem = ValidationProblem(
        "B", Check.NEGATIVE_VOLUME, None, "B.csv:7", "volume -1 is negative"
    )
    report = ValidationReport({"A": (), "B": (problem, problem)}, {"A": 10, "B": 20})
    assert report.render(limit=1).splitlines() == [
        "A: ok (10 bars)",
        "B: 2 problem(s) in 20 bars (negative_volume 2)",
        "  B.csv:7 negative_volume: volume -1 is negative",
        "  ... and 1 more",
        "2 symbol(s) checked: 2 problem(s), 2 structural",
    ]
    assert report.total == 2
    assert not report.ok
