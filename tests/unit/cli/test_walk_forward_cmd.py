"""quant walk-forward: runs from the YAML block with no flags; user mistakes exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.cli.test_cli import MOMENTUM, quant

MEAN_REVERSION = str(Path(MOMENTUM).with_name("mean_reversion_v1.yaml"))


def test_walk_forward_momentum_with_no_flags_writes_report_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = quant(
        capsys, monkeypatch, "walk-forward", MOMENTUM, "--out", str(tmp_path), "--workers", "1"
    )
    assert (code, err) == (0, "")
    assert "probability of backtest overfitting" in out
    assert "deflated Sharpe ratio" in out
    data = json.loads((tmp_path / "walk_forward.json").read_text())
    assert len(data["windows"]) == 17
    assert len(data["grid"]) == 25
    assert data["fast_path"] is True
    assert all(
        w["chosen_params"] is None or set(w["chosen_params"]) == {"fast", "slow"}
        for w in data["windows"]
    )
    html = (tmp_path / "walk_forward.html").read_text()
    assert "Window timeline" in html


def test_walk_forward_param_flags_and_event_path_strategy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = quant(
        capsys,
        monkeypatch,
        "walk-forward",
        MEAN_REVERSION,
        "--param",
        "oversold=25,30",
        "--param",
        "bb_period=15,20",
        "--windows",
        "3",
        "--in-sample-days",
        "730",
        "--objective",
        "total_return",
        "--window-type",
        "anchored",
        "--min-trades",
        "2",
        "--workers",
        "1",
        "--out",
        str(tmp_path),
        "--start",
        "2008-01-01",
        "--end",
        "2014-12-31",
    )
    assert (code, err) == (0, "")
    data = json.loads((tmp_path / "walk_forward.json").read_text())
    assert data["fast_path"] is False
    assert data["walk_forward_config"]["objective"] == "total_return"
    assert len(data["windows"]) == 3
    assert len({w["in_sample"][0] for w in data["windows"]}) == 1  # anchored


def test_walk_forward_grid_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text("fast: [10, 20]\nslow: [60, 100]\n")
    code, _, _ = quant(
        capsys,
        monkeypatch,
        "walk-forward",
        MOMENTUM,
        "--grid",
        str(grid),
        "--windows",
        "4",
        "--workers",
        "1",
        "--out",
        str(tmp_path),
    )
    assert code == 0
    assert len(json.loads((tmp_path / "walk_forward.json").read_text())["grid"]) == 4


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--param", "fastt=1,2"], "unknown parameter(s) in the grid: fastt"),
        (["--param", "fast"], "--param expects NAME=V1,V2"),
        (["--param", "fast=10,80"], "must be smaller than slow"),
        (["--objective", "luck"], "Invalid value for '--objective'"),
        (["--in-sample-days", "2"], "--in-sample-days: Input should be greater than or equal to 5"),
        (["--in-sample-days", "9000"], "too short for one window"),
        (["--grid", "nowhere.yaml"], "nowhere.yaml: cannot read the grid file"),
        (["--grid", "g.yaml", "--param", "fast=1"], "--grid and --param"),
        (["--workers", "0"], "Invalid value for '--workers'"),
    ],
)
def test_walk_forward_user_mistakes_exit_2(
    args: list[str],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = quant(capsys, monkeypatch, "walk-forward", MOMENTUM, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert expected in lines[0]
    assert "Traceback" not in out + err
    assert not (tmp_path / "reports").exists()


def test_walk_forward_without_any_grid_says_where_to_put_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = quant(capsys, monkeypatch, "walk-forward", MEAN_REVERSION)
    assert code == 2
    assert "no parameter grid; add walk_forward.parameter_grid or pass --param/--grid" in err
