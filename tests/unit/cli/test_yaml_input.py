"""Every YAML the CLI reads from a user (strategy configs, grid files, --set and --param values)
ends a bad file with exit 2 and one line naming it, and refuses alias bombs before building them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.unit.cli.test_cli import MOMENTUM, quant
from tests.unit.strategy.test_yaml_reader import bomb


@pytest.fixture
def constructed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = yaml.SafeLoader.construct_document

    def counting(self: yaml.SafeLoader, node: yaml.Node) -> object:
        calls.append(1)
        return original(self, node)

    monkeypatch.setattr(yaml.SafeLoader, "construct_document", counting)
    return calls


def _one_line(code: int, out: str, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in out + err
    return lines[0]


@pytest.mark.parametrize("command", ["backtest", "walk-forward", "check-lookahead"])
def test_a_config_with_a_nul_byte_exits_2_naming_file_and_line(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "nul.yaml"
    text = Path(MOMENTUM).read_text()
    path.write_text(text.replace("timeframe: 1d", "timeframe: 1d\x00"))
    line = text.splitlines().index("timeframe: 1d") + 1
    found = _one_line(*quant(capsys, monkeypatch, command, str(path)))
    assert found.startswith(f"error: {path}:{line}: unacceptable character #x0000")


def test_a_config_alias_bomb_exits_2_before_it_is_built(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    constructed: list[int],
) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(Path(MOMENTUM).read_text() + "description: x\n" + bomb(9, 9))
    found = _one_line(*quant(capsys, monkeypatch, "backtest", str(path)))
    assert found.startswith(f"error: {path}:")
    assert "values through aliases" in found
    assert constructed == []
    assert not (tmp_path / "reports").exists()


def test_a_grid_file_alias_bomb_or_nul_byte_exits_2_naming_the_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    constructed: list[int],
) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(bomb(9, 9))
    found = _one_line(*quant(capsys, monkeypatch, "walk-forward", MOMENTUM, "--grid", str(grid)))
    assert found.startswith(f"error: {grid}:")
    assert "values through aliases" in found
    grid.write_text("fast: [10, 20]\x00\n")
    found = _one_line(*quant(capsys, monkeypatch, "walk-forward", MOMENTUM, "--grid", str(grid)))
    assert found.startswith(f"error: {grid}:1: unacceptable character")
    assert len(constructed) == 2  # the strategy config, once per command; neither grid


def test_a_set_value_with_too_many_aliases_names_the_flag(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    value = "[&a 1, " + ", ".join(["*a"] * 101) + "]"
    found = _one_line(*quant(capsys, monkeypatch, "backtest", MOMENTUM, "--set", f"fast={value}"))
    assert "--set fast:" in found
    assert "more than 100 aliases" in found
