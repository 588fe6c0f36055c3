"""`quant paper-replay` paper-trades a config over stored bars and checks parity with a backtest."""

from __future__ import annotations

import pytest

from tests.unit.cli.test_cli import MOMENTUM, quant


def test_a_paper_replay_of_the_sample_is_identical_to_its_backtest(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = quant(
        capsys,
        monkeypatch,
        "paper-replay",
        MOMENTUM,
        "--start",
        "2010-01-01",
        "--end",
        "2014-12-31",
    )
    assert (code, err) == (0, "")
    assert "paper session on samples" in out
    assert "parity with the backtest of the same bars: identical" in out


def test_a_speed_that_is_not_one_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = quant(capsys, monkeypatch, "paper-replay", MOMENTUM, "--speed", "fast")
    assert code == 2
    assert err.strip().splitlines() == [
        "error: speed: replay speed 'fast' is not one of 1x, 60x, ... or max"
    ]
