"""A start or end outside the data ends a run command with exit 2 and one line naming the flag
(or the config's line) and the range the data has, as POST /v1/runs says it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.test_cli import MOMENTUM, quant

XSEC = str(Path(MOMENTUM).with_name("xsec_momentum_v1.yaml"))
SP500 = "SP500 has bars from 1999-01-04 to 2018-12-31"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["backtest", MOMENTUM, "--start", "2019-06-03"],
            f"error: --start: no SP500 bars on or after 2019-06-03: {SP500}",
        ),
        (
            ["backtest", MOMENTUM, "--end", "1995-01-03"],
            f"error: --end: no SP500 bars on or before 1995-01-03: {SP500}",
        ),
        (
            ["walk-forward", MOMENTUM, "--start", "2019-06-03"],
            f"error: --start: no SP500 bars on or after 2019-06-03: {SP500}",
        ),
        (
            ["check-lookahead", MOMENTUM, "--end", "1995-01-03"],
            f"error: --end: no SP500 bars on or before 1995-01-03: {SP500}",
        ),
        (
            ["backtest", XSEC, "--start", "2014-01-02", "--end", "2015-01-02"],
            "error: --start: no GOOG bars on or after 2014-01-02: GOOG has bars from 2004-08-19 "
            "to 2013-03-01; the range all of SP500, NASDAQ, GOOG have is 2004-08-19 to 2013-03-01",
        ),
    ],
)
def test_dates_outside_the_data_exit_2_with_the_range_that_exists(
    args: list[str],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = quant(capsys, monkeypatch, *args)
    assert code == 2
    assert err.strip() == expected
    assert not (tmp_path / "reports").exists()


def test_a_config_date_outside_the_data_names_its_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "eurusd.yaml"
    config.write_text(Path(XSEC).read_text().replace("[SP500, NASDAQ, GOOG]", "[EURUSD]"))
    line = config.read_text().splitlines().index("end: 2013-03-01") + 1
    code, _, err = quant(capsys, monkeypatch, "backtest", str(config), "--out", str(tmp_path))
    assert code == 2
    assert err.strip().startswith(f"error: {config}:{line}: end: no EURUSD bars on or before")
