"""One name per setting (ADR 0019): each flag is its BacktestConfig field dashed; the old
spellings still work, and an error names the spelling that was typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quant_cli.options import FLAG_NAMES, written
from quant_engine import BacktestConfig
from tests.unit.cli.test_cli import MOMENTUM, quant


def test_every_backtest_setting_flag_is_its_field_name_dashed() -> None:
    for field, names in FLAG_NAMES.items():
        if field == "sizing":  # the block: its mode is what the flag sets
            continue
        assert names[0] == "--" + field.replace(".", "-").replace("_", "-")
        top = field.partition(".")[0]
        assert top in BacktestConfig.model_fields


def test_written_is_the_spelling_on_the_command_line() -> None:
    names = FLAG_NAMES["initial_capital"]
    assert written(names, ["backtest", "x.yaml", "--capital", "5"]) == "--capital"
    assert written(names, ["--capital=5"]) == "--capital"
    assert written(names, ["--initial-capital", "5"]) == "--initial-capital"
    assert written(names, []) == "--initial-capital"


def test_the_new_flag_names_reach_the_stored_backtest_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = quant(
        capsys,
        monkeypatch,
        "backtest",
        MOMENTUM,
        "--out",
        str(tmp_path),
        "--start",
        "2010-01-01",
        "--end",
        "2011-12-31",
        "--initial-capital",
        "50000",
        "--commission-per-trade",
        "0.5",
        "--sizing-mode",
        "fixed",
        "--sizing-quantity",
        "3",
        "--sizing-whole",
    )
    assert (code, err) == (0, "")
    bt = json.loads((tmp_path / "result.json").read_text())["backtest_config"]
    assert (bt["initial_capital"], bt["commission_per_trade"]) == ("50000.0", "0.5")
    assert (bt["sizing"]["mode"], bt["sizing"]["quantity"], bt["sizing"]["fractional"]) == (
        "fixed",
        "3.0",
        False,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["backtest", MOMENTUM, "--initial-capital", "-5"], "error: --initial-capital: Input"),
        (["backtest", MOMENTUM, "--capital", "-5"], "error: --capital: Input"),
        (["backtest", MOMENTUM, "--commission", "-1"], "error: --commission: Input"),
        (["backtest", MOMENTUM, "--commission-per-trade", "-1"], "error: --commission-per-trade:"),
        (["backtest", MOMENTUM, "--sizing-fraction", "0"], "error: --sizing-fraction: Input"),
        (["backtest", MOMENTUM, "--fraction", "0"], "error: --fraction: Input"),
        (
            ["backtest", MOMENTUM, "--sizing-mode", "fixed", "--sizing-quantity", "2.5"],
            "error: --sizing-mode/--sizing-quantity/--sizing-fractional: fixed quantity",
        ),
        (["walk-forward", MOMENTUM, "--min-trades", "-1"], "error: --min-trades: Input"),
        (
            ["walk-forward", MOMENTUM, "--min-trades-required", "-1"],
            "error: --min-trades-required: Input",
        ),
    ],
)
def test_an_error_names_the_flag_as_it_was_typed(
    args: list[str],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = quant(capsys, monkeypatch, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(expected), err
