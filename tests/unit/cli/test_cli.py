"""The quant command: real runs write reports; user mistakes exit 2 with one line, no traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from quant_cli.main import main

ROOT = Path(__file__).resolve().parents[3]
MOMENTUM = str(ROOT / "configs" / "strategies" / "momentum_v1.yaml")


def quant(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["quant", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_backtest_momentum_on_sp500_writes_html_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = quant(capsys, monkeypatch, "backtest", MOMENTUM, "--out", str(tmp_path))
    assert (code, err) == (0, "")
    assert "Sharpe ratio" in out
    assert "1999-01-04 .. 2018-12-31" in out
    result = json.loads((tmp_path / "result.json").read_text())
    assert len(result["equity_curve"]) == 5031
    assert result["metrics"]["num_trades"] > 10
    assert set(result["metadata"]) >= {"code_version", "config_hash", "data_fingerprint", "seed"}
    closed = [t for t in result["trades"] if t["status"] == "closed"]
    assert all(len(t["fills"]) == 2 for t in closed)
    assert closed[0]["fills"][0]["side"] == "buy"
    html = (tmp_path / "report.html").read_text()
    assert "Buy &amp; hold SP500" in html or "Buy & hold SP500" in html


def test_backtest_flags_reach_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, _ = quant(
        capsys,
        monkeypatch,
        "backtest",
        MOMENTUM,
        "--out",
        str(tmp_path),
        "--start",
        "2010-01-01",
        "--end",
        "2012-12-31",
        "--capital",
        "50000",
        "--commission",
        "0",
        "--commission-bps",
        "5",
        "--slippage-bps",
        "2",
        "--fill-timing",
        "next_open",
        "--sizing",
        "fraction",
        "--fraction",
        "0.5",
        "--fractional",
        "--set",
        "fast=10",
        "--seed",
        "3",
    )
    assert code == 0
    result = json.loads((tmp_path / "result.json").read_text())
    bt = result["backtest_config"]
    assert (bt["initial_capital"], bt["commission_bps"], bt["slippage_bps"]) == (
        "50000.0",
        "5.0",
        "2.0",
    )
    assert (bt["fill_timing"], bt["sizing"]["fraction"], bt["sizing"]["fractional"]) == (
        "next_open",
        0.5,
        True,
    )
    assert result["strategy_config"]["params"]["fast"] == 10
    assert result["metadata"]["seed"] == 3
    assert result["start"].startswith("2010-01-04")
    assert result["end"].startswith("2012-12-31")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["backtest", "missing.yaml"], "missing.yaml: no such file"),
        (["backtest", MOMENTUM, "--capital", "-5"], "--capital: Input should be greater than 0"),
        (["backtest", MOMENTUM, "--set", "fast=abc"], "--set fast:"),
        (
            ["backtest", MOMENTUM, "--set", "fast=60"],
            "params: fast (60) must be smaller than slow (50)",
        ),
        (["backtest", MOMENTUM, "--data", "/no/such/folder"], "/no/such/folder does not exist"),
        (
            ["backtest", MOMENTUM, "--start", "2020-01-01", "--end", "2019-01-01"],
            "--start/--end: start",
        ),
        (
            ["backtest", MOMENTUM, "--start", "2030-01-01"],
            "--start: no SP500 bars on or after 2030-01-01: SP500 has bars from 1999-01-04",
        ),
        (
            ["backtest", MOMENTUM, "--data", "synthetic"],
            "momentum_v1.yaml:5: universe.0: unknown symbol 'SP500'",
        ),
        (["backtest", MOMENTUM, "--fill-timing", "tomorrow"], "Invalid value for '--fill-timing'"),
        (["backtest", MOMENTUM, "--start", "2020-13-01"], "Invalid value for '--start'"),
        (
            ["backtest", MOMENTUM, "--sizing", "fixed", "--quantity", "2.5"],
            "fixed quantity must be whole",
        ),
        (["backtest"], "Missing argument 'CONFIG'"),
        (["nonsense"], "No such command 'nonsense'"),
        (["bakctest", "x.yaml"], "No such command 'bakctest'. Did you mean 'backtest'?"),
        (["data", "nonsense"], "No such command 'nonsense'"),
        (["db", "upgrade", "--revision"], "Option '--revision' requires an argument"),
        (["data", "validate", "synthetic:seed=x"], "seed"),
        (["strategies", "list", "--dir", "/no/such"], "/no/such: no such folder"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(
    args: list[str],
    expected: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = quant(capsys, monkeypatch, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "Traceback" not in out + err
    assert not (tmp_path / "reports").exists()


def test_bad_yaml_in_config_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(MOMENTUM).read_text().replace("fast: 20", "fast: twenty"))
    code, _, err = quant(capsys, monkeypatch, "backtest", str(bad))
    assert code == 2
    assert (
        err.strip()
        == f"error: {bad}:10: params.fast: Input should be a valid integer, unable to parse string as an integer"
    )


def test_strategies_list_shows_every_builtin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = quant(
        capsys, monkeypatch, "strategies", "list", "--dir", str(ROOT / "configs" / "strategies")
    )
    assert code == 0
    for name in (
        "momentum_v1",
        "mean_reversion_v1",
        "xsec_momentum_v1",
        "buy_and_hold",
        "xgb_direction_v1",
        "xgb_direction_wf_v1",
    ):
        assert name in out
    assert "6 configs, 0 with problems" in out


def test_strategies_list_flags_a_broken_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    (tmp_path / "broken.yaml").write_text("id: broken\nclass: nowhere:Nothing\nuniverse: [X]\n")
    code, out, _ = quant(capsys, monkeypatch, "strategies", "list", "--dir", str(tmp_path))
    assert code == 1
    assert "broken.yaml:2: class: cannot import module 'nowhere'" in out


def test_data_validate_samples_is_clean(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = quant(capsys, monkeypatch, "data", "validate", "samples")
    assert code == 0
    assert "SP500: ok (5031 bars)" in out


def test_data_validate_reports_problem_location_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    (tmp_path / "ABC.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-02,10,11,9,10,5\n2024-01-03,10,9,11,10,5\n"
    )
    code, out, _ = quant(capsys, monkeypatch, "data", "validate", str(tmp_path))
    assert code == 1
    assert "ABC.csv:3" in out
    assert "high_below_low" in out


def test_backtest_with_a_risk_policy_reports_the_bar_its_breaker_tripped_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "risk.yaml"
    policy.write_text(
        "account:\n  max_risk_per_trade: 0.02\n  stop_distance: 0.02\n"
        "  max_capital_deployed: 0.8\n  daily_loss_limit: 0.03\n  max_drawdown: 0.1\n"
    )
    hold = str(ROOT / "configs" / "strategies" / "buy_and_hold.yaml")
    args = ["backtest", hold, "--start", "2007-06-01", "--end", "2009-06-30", "--out"]
    code, out, err = quant(capsys, monkeypatch, *args, str(tmp_path), "--risk-policy", str(policy))
    assert (code, err) == (0, "")
    result = json.loads((tmp_path / "result.json").read_text())
    trips = result["metadata"]["risk"]["trips"]
    drawdown = [t for t in trips if t["rule"] == "drawdown"]
    assert len(drawdown) == 1
    assert drawdown[0]["mode"] == "flatten_and_halt"
    assert drawdown[0]["value"] >= 0.1
    assert drawdown[0]["at"].startswith("2008-")
    assert f"drawdown tripped on the bar of {drawdown[0]['at']}" in out.replace("\n", "")
    assert result["strategy_config"]["risk"]["max_gross_exposure"] == 0.8  # the policy's caps
    assert result["trades"][0]["exit_time"].startswith(drawdown[0]["at"][:10])  # flattened
    assert "Risk policy" in (tmp_path / "report.html").read_text()


def test_backtest_with_a_bad_risk_policy_exits_2_naming_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "risk.yaml"
    policy.write_text("account:\n  max_positions: 40\n")
    code, _, err = quant(capsys, monkeypatch, "backtest", MOMENTUM, "--risk-policy", str(policy))
    assert code == 2
    assert err.strip() == (
        f"error: {policy}:2: account.max_positions: Input should be less than or equal to 15"
    )
