"""Bad strategy configs get one clear error naming the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from quant_domain import ConfigError
from quant_strategy import StrategyConfig, apply_overrides, build_strategy, load_strategy_config

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"

GOOD = """\
id: demo
class: quant_strategy.builtin.momentum:SmaCrossover
universe: [SP500]
timeframe: 1d
params:
  fast: 10
  slow: 30
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(text)
    return path


def _error(tmp_path: Path, text: str, known: set[str] | None = None) -> ConfigError:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        build_strategy(load_strategy_config(path, known))
    return info.value


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_builtin_configs_load_and_build(path: Path) -> None:
    config = load_strategy_config(path, {"SP500", "NASDAQ", "GOOG", "EURUSD"})
    strategy = build_strategy(config)
    assert strategy.id == path.stem


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("slow: 30", "slow: [30"))
    assert err.file is not None
    assert err.file.endswith("demo.yaml")
    assert err.line == 8
    assert "YAML syntax" in str(err)


def test_unknown_class_names_class_field_and_line(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("SmaCrossover", "NoSuchClass"))
    assert (err.line, err.field) == (2, "class")
    assert "no class 'NoSuchClass'" in str(err)


def test_unknown_module_names_class_field(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("quant_strategy.builtin.momentum", "nowhere.mod"))
    assert (err.line, err.field) == (2, "class")


def test_wrong_param_type_names_param_and_line(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("fast: 10", "fast: ten"))
    assert (err.line, err.field) == (6, "params.fast")
    assert str(err).startswith(f"{tmp_path / 'demo.yaml'}:6: params.fast:")


def test_unknown_param_is_refused(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD + "  fastt: 3\n")
    assert (err.line, err.field) == (8, "params.fastt")
    assert "unknown parameter" in str(err)


def test_cross_field_param_rule_reported(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("fast: 10", "fast: 40"))
    assert err.field == "params"
    assert "must be smaller than slow" in str(err)


def test_missing_field_names_it(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("universe: [SP500]\n", ""))
    assert err.field == "universe"
    assert "required field is missing" in str(err)


def test_unknown_symbol_names_its_list_position(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("[SP500]", "\n  - SP500\n  - NOPE"), known={"SP500"})
    assert (err.line, err.field) == (5, "universe.1")
    assert "unknown symbol 'NOPE'" in str(err)


def test_bad_timeframe_named(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD.replace("timeframe: 1d", "timeframe: daily"))
    assert (err.line, err.field) == (4, "timeframe")


def test_unknown_top_level_field_refused(tmp_path: Path) -> None:
    err = _error(tmp_path, GOOD + "colour: red\n")
    assert (err.line, err.field) == (8, "colour")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_strategy_config(tmp_path / "absent.yaml")


def test_set_override_changes_param_and_bad_value_names_flag(tmp_path: Path) -> None:
    config = load_strategy_config(_write(tmp_path, GOOD))
    assert build_strategy(apply_overrides(config, ["fast=5"])).params.fast == 5  # type: ignore[attr-defined]
    with pytest.raises(ConfigError) as info:
        build_strategy(apply_overrides(config, ["slow=abc"]))
    assert info.value.field == "--set slow"
    with pytest.raises(ConfigError, match="NAME=VALUE"):
        apply_overrides(config, ["fast"])


def test_a_run_reads_the_database_only_when_every_needed_symbol_was_ingested() -> None:
    config = StrategyConfig.model_validate(
        {"id": "m", "class": "x:Y", "universe": ["SP500", "NASDAQ"], "benchmark": "SP500"}
    )
    assert config.needed_symbols == ["SP500", "NASDAQ"]  # the benchmark once
    assert config.reads_database({"SP500", "NASDAQ", "GOOG"})
    assert not config.reads_database({"SP500"})
    assert config.file_source == "samples"
    assert config.updated(data="synthetic:seed=3").file_source == "synthetic:seed=3"
