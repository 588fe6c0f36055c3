"""xgb_direction from the shell: a per-window-trained config belongs to `quant walk-forward`,
which takes no parameter grid for it; mistakes exit 2 with one line naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.test_cli import quant

PER_WINDOW = "configs/strategies/xgb_direction_wf_v1.yaml"


def test_backtest_of_a_per_window_config_exits_2_pointing_at_walk_forward(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = quant(capsys, monkeypatch, "backtest", PER_WINDOW, "--out", str(tmp_path))
    assert code == 2
    assert err.count("\n") == 1
    assert f"{PER_WINDOW}:18: params.train:" in err
    assert "quant walk-forward" in err


def test_walk_forward_of_a_per_window_config_refuses_a_parameter_grid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = quant(
        capsys,
        monkeypatch,
        *("walk-forward", PER_WINDOW, "--param", "long_above=0.55,0.6", "--out", str(tmp_path)),
    )
    assert code == 2
    assert err.count("\n") == 1
    assert "walk_forward.parameter_grid" in err
    assert "no parameter grid" in err
