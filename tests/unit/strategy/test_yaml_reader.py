"""YAML from users is read within bounds: control characters, alias bombs and deep nesting are
refused with one ConfigError naming the file and line, before anything is built from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from quant_domain import ConfigError
from quant_strategy import load_strategy_config
from quant_strategy.yaml_reader import MAX_ALIASES, MAX_DEPTH, MAX_NODES, read_yaml


def bomb(levels: int, width: int) -> str:
    """`levels` lists, each holding `width` aliases of the one before: width**levels leaves."""
    lines = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.fixture
def constructed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the documents PyYAML builds Python values for: a refused one must reach none."""
    import yaml  # noqa: PLC0415

    calls: list[int] = []
    original = yaml.SafeLoader.construct_document

    def counting(self: yaml.SafeLoader, node: yaml.Node) -> object:
        calls.append(1)
        return original(self, node)

    monkeypatch.setattr(yaml.SafeLoader, "construct_document", counting)
    return calls


def test_read_yaml_a_nul_byte_is_a_config_error_naming_file_and_line() -> None:
    with pytest.raises(ConfigError) as info:
        read_yaml("id: demo\nuniverse: [SP500]\nclass: a:B\x00\n", "x.yaml")
    assert (info.value.file, info.value.line) == ("x.yaml", 3)
    assert "#x0000" in str(info.value)


def test_load_strategy_config_a_nul_byte_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"id: demo\x00\nclass: a:B\n")
    with pytest.raises(ConfigError) as info:
        load_strategy_config(path)
    assert str(info.value).startswith(f"{path}:1: unacceptable character #x0000")


def test_read_yaml_an_alias_bomb_is_refused_before_any_value_is_built(
    constructed: list[int],
) -> None:
    text = bomb(levels=9, width=9)  # 72 aliases, 9**9 = 387 million leaves
    with pytest.raises(ConfigError) as info:
        read_yaml(text, "bomb.yaml")
    assert f"more than {MAX_NODES:,} values through aliases" in str(info.value)
    assert info.value.file == "bomb.yaml"
    assert info.value.line is not None
    assert constructed == []


def test_read_yaml_too_many_aliases_are_refused_at_the_first_one_over(
    constructed: list[int],
) -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(ConfigError) as info:
        read_yaml(text, "many.yaml")
    assert f"more than {MAX_ALIASES} aliases" in str(info.value)
    assert info.value.line == 2
    assert constructed == []


def test_read_yaml_an_alias_inside_its_own_anchor_is_refused(constructed: list[int]) -> None:
    with pytest.raises(ConfigError) as info:
        read_yaml("a: &a [1, *a]\n", "loop.yaml")
    assert "refers to a node that contains it" in str(info.value)
    assert constructed == []


def test_read_yaml_deep_nesting_is_refused_with_its_line() -> None:
    text = "a:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(MAX_DEPTH + 5)) + "x\n"
    with pytest.raises(ConfigError) as info:
        read_yaml(text, "deep.yaml")
    assert f"nested deeper than {MAX_DEPTH} levels" in str(info.value)
    assert info.value.line is not None


def test_read_yaml_a_few_aliases_within_the_bounds_still_load() -> None:
    document = read_yaml("base: &base {fast: 10}\nother: *base\n")
    assert document.data["other"] == {"fast": 10}
    assert read_yaml(bomb(levels=3, width=4)).data["l2"][0][0] == ["x"] * 4
