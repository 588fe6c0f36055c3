"""The README's "Writing a strategy" example is the shipped strategies/ folder, and it runs as
written: a fresh `quant` process in a project with that folder, no environment variable set."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from quant_strategy.strategy_folder import ENV_VAR

ROOT = Path(__file__).resolve().parents[3]
QUANT = Path(sys.executable).parent / "quant"


def readme_blocks() -> dict[str, str]:
    """The python and yaml code blocks of the README's "Writing a strategy" section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Writing a strategy", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"```(python|yaml)\n(.*?)```", section, flags=re.DOTALL))


def test_the_readme_example_is_the_shipped_strategies_folder() -> None:
    blocks = readme_blocks()
    assert blocks["python"] == (ROOT / "strategies" / "breakout.py").read_text()
    assert blocks["yaml"] == (ROOT / "strategies" / "breakout_v1.yaml").read_text()
    assert "class: breakout:Breakout" in blocks["yaml"]


def _quant(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (ENV_VAR, "PYTHONPATH")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [str(QUANT), *args],
        check=False,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A new project holding only the README's strategy, in strategies/."""
    blocks = readme_blocks()
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "breakout.py").write_text(blocks["python"])
    (folder / "breakout_v1.yaml").write_text(blocks["yaml"])
    return tmp_path


def test_quant_backtest_runs_the_readme_strategy_with_no_environment_variable(
    project: Path,
) -> None:
    done = _quant(project, "backtest", "strategies/breakout_v1.yaml", "--out", "out")
    assert done.returncode == 0, done.stderr
    result = json.loads((project / "out" / "result.json").read_text())
    assert result["strategy_config"]["class"] == "breakout:Breakout"
    assert result["metrics"]["num_trades"] > 10
    listed = _quant(project, "strategies", "list")
    assert "breakout_v1" in listed.stdout
    assert "Breakout" in listed.stdout
    assert "0 with problems" in listed.stdout


def test_quant_backtest_names_the_class_line_when_the_module_is_missing(project: Path) -> None:
    (project / "strategies" / "breakout.py").unlink()
    done = _quant(project, "backtest", "strategies/breakout_v1.yaml")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: strategies/breakout_v1.yaml:2: class: cannot import")
    assert str(project / "strategies") in lines[0]
