"""`quant check-lookahead`: exit 1 on bias, 0 when clean, 2 with one error line for mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from quant_cli.lookahead_cmd import SUSPICIOUS, check_lookahead_command
from quant_marketdata import SampleSource

ROOT = Path(__file__).resolve().parents[3]
MOMENTUM = str(ROOT / "configs" / "strategies" / "momentum_v1.yaml")
PEEKING = str(ROOT / "tests" / "configs" / "peeking.yaml")
INSTALL = "tests.biased_strategies:install_frames"
NOT_CHECKED = (
    "no look-ahead found in what the engine feeds the strategy; data the strategy reads by "
    "itself was not checked"
)


def quant(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `quant check-lookahead ARGS` in-process, wired as main.py wires its commands."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.callback()(lambda: None)
    app.command("check-lookahead")(check_lookahead_command)
    code = app(["check-lookahead", *args], prog_name="quant", standalone_mode=False)
    out, err = capsys.readouterr()
    return int(code or 0), out, err


def test_check_lookahead_on_a_peeking_strategy_reports_bias_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = quant(capsys, PEEKING, "--checks", "4", "--prepare", INSTALL)
    assert (code, err) == (1, "")
    findings = [line for line in out.splitlines() if line.startswith("look-ahead bias ")]
    assert len(findings) == 4
    assert all("depends on data after" in line for line in findings)
    assert (
        "peeking_crossover: 4 checks run, 3 decision points with orders, 4 biased points found"
        in out
    )
    assert "clean" not in out


def test_check_lookahead_on_momentum_is_clean_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = quant(
        capsys,
        MOMENTUM,
        "--checks",
        "4",
        "--start",
        "2005-01-01",
        "--end",
        "2009-12-31",
        "--seed",
        "3",
        "--fill-timing",
        "next_open",
    )
    assert (code, err) == (0, "")
    assert "momentum_v1: 4 checks run, 3 decision points with orders, 0 biased points found" in out
    assert "perturbed runs changed later orders at 4 points" in out
    assert NOT_CHECKED in " ".join(out.split())
    assert "clean" not in out


def test_check_lookahead_on_a_strategy_reading_its_own_file_is_suspicious_and_exits_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    SampleSource().get_bars("SP500").to_csv(tmp_path / "SP500.csv")
    config = tmp_path / "oracle.yaml"
    config.write_text(
        Path(PEEKING)
        .read_text(encoding="utf-8")
        .replace("tests.biased_strategies:PeekingCrossover", "tests.biased_strategies:FileOracle")
        + f"params:\n  folder: {tmp_path}\n",
        encoding="utf-8",
    )
    code, out, err = quant(capsys, str(config), "--checks", "3")
    text = " ".join(out.split())
    assert (code, err) == (SUSPICIOUS, "")
    assert "0 biased points found" in text
    assert NOT_CHECKED in text
    assert "suspicious: Sharpe 8.70 on daily bars is above 4.00" in text
    assert "win rate 95.97% over 124 closed trades is above 90%" in text
    assert "clean" not in out


def test_check_lookahead_sharpe_limit_option_moves_the_bar(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = quant(capsys, MOMENTUM, "--checks", "1", "--sharpe-limit", "0.1")
    assert code == SUSPICIOUS
    assert "suspicious: Sharpe 0.15 on daily bars is above 0.10" in " ".join(out.split())


def test_check_lookahead_with_prepare_says_the_rebuilt_data_was_checked_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = quant(
        capsys, MOMENTUM, "--checks", "1", "--prepare", "tests.biased_strategies:install_frames"
    )
    text = " ".join(out.split())
    assert code == 0
    assert (
        "no look-ahead found in what the engine feeds the strategy, nor in the data "
        "--prepare rebuilt from it" in text
    )
    assert NOT_CHECKED not in text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["missing.yaml"], "error: missing.yaml: no such file"),
        ([MOMENTUM, "--prepare", "nothing"], "error: --prepare: expected MODULE:FUNCTION"),
        (
            [MOMENTUM, "--prepare", "tests.biased_strategies:nope"],
            "error: --prepare: module 'tests.biased_strategies' has no function 'nope'",
        ),
        (
            [MOMENTUM, "--start", "2012-01-01", "--end", "2011-01-01"],
            "error: --start/--end: start (2012-01-01) is after end (2011-01-01)",
        ),
        (
            [MOMENTUM, "--start", "2030-01-01"],
            "error: --start: no SP500 bars on or after 2030-01-01: SP500 has bars from 1999-01-04",
        ),
    ],
)
def test_check_lookahead_user_mistakes_exit_2_with_one_error_line(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, out, err = quant(capsys, *args)
    assert code == 2
    assert out.strip() == ""  # at most the transient progress bar's line end
    assert err.startswith(expected)
    assert err.count("\n") == 1
