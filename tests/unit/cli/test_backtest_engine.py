"""quant backtest --engine: the path taken is in result.json and report.html; compiled where
impossible exits 2 with one line saying why."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from quant_cli.main import main

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"


def quant(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["quant", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.parametrize(("engine", "path"), [("event", "event"), ("compiled", "compiled")])
def test_backtest_engine_flag_records_the_path_in_json_and_html(
    engine: str,
    path: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = str(CONFIGS / "momentum_v1.yaml")
    code, _, err = quant(
        capsys, monkeypatch, "backtest", config, "--out", str(tmp_path), "--engine", engine
    )
    assert code == 0, err
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["metadata"]["engine"] == path
    assert result["backtest_config"]["engine"] == engine
    label = "compiled kernel" if path == "compiled" else "event loop"
    assert (
        f"<tr><th>Engine</th><td><code>{label}</code></td></tr>"
        in (tmp_path / "report.html").read_text()
    )


def test_backtest_engine_compiled_without_vector_form_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = str(CONFIGS / "mean_reversion_v1.yaml")
    code, _, err = quant(
        capsys, monkeypatch, "backtest", config, "--out", str(tmp_path), "--engine", "compiled"
    )
    assert code == 2
    assert err.strip().splitlines() == [
        "error: --engine: compiled is not possible for mean_reversion_v1: "
        "MeanReversion has no vector_targets"
    ]


def test_backtest_by_default_takes_the_compiled_kernel_with_its_progress_bar_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = str(CONFIGS / "momentum_v1.yaml")
    code, out, err = quant(capsys, monkeypatch, "backtest", config, "--out", str(tmp_path))
    assert code == 0, err
    result = json.loads((tmp_path / "result.json").read_text())
    assert (result["metadata"]["engine"], result["backtest_config"]["engine"]) == (
        "compiled",
        "auto",
    )
    assert "58 closed trades; compiled kernel" in " ".join(out.split())  # rich wraps lines
    assert round(result["metrics"]["end_equity"], 2) == 122_651.59
