"""A config's `class: module:Class` loads from the user's strategies folder with no PYTHONPATH,
afresh after an edit, without shadowing installed modules; mistakes name the class field."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from quant_domain import ConfigError
from quant_strategy import StrategyConfig, build_strategy, resolve_class
from quant_strategy.strategy_folder import ENV_VAR, strategies_path

MODULE = """\
from pydantic import Field

from quant_domain import Signal
from quant_strategy import Strategy, StrategyParams


class WindowParams(StrategyParams):
    window: int = Field(default={default}, ge=2)


class {name}(Strategy[WindowParams]):
    params_model = WindowParams

    def on_market_data(self, bar) -> None:
        pass

    def generate_signals(self, state) -> list[Signal]:
        return []
"""


def write_module(folder: Path, module: str, name: str = "Breakout", default: int = 20) -> Path:
    path = folder.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MODULE.format(name=name, default=default))
    return path


def config(class_path: str = "breakout:Breakout") -> StrategyConfig:
    return StrategyConfig.model_validate({"id": "mine", "class": class_path, "universe": ["SP500"]})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory as the working directory, with no strategies folder setting."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_resolve_class_finds_the_module_in_the_default_strategies_folder(project: Path) -> None:
    write_module(project / "strategies", "breakout")
    cls = resolve_class(config())
    assert cls.__name__ == "Breakout"
    assert cls.__module__ == "quant_user_strategies.breakout"
    assert not (project / "strategies" / "__pycache__").exists()


def test_the_folder_comes_from_the_environment_then_dotenv_then_the_default(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert strategies_path() == project / "strategies"
    (project / ".env").write_text(f"{ENV_VAR}=research/strategies\n")
    assert strategies_path() == project / "research" / "strategies"
    monkeypatch.setenv(ENV_VAR, str(project / "elsewhere"))
    assert strategies_path() == project / "elsewhere"
    write_module(project / "elsewhere", "breakout", name="Breakout")
    assert resolve_class(config()).__name__ == "Breakout"


def test_an_edited_module_is_imported_afresh_even_within_the_same_second(project: Path) -> None:
    path = write_module(project / "strategies", "breakout", default=20)
    first = resolve_class(config())
    assert first.params_model.model_fields["window"].default == 20
    assert resolve_class(config()) is first  # unchanged files: the module imported before
    stat = path.stat()
    path.write_text(path.read_text().replace("default=20", "default=30"))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    second = resolve_class(config())
    assert second is not first
    assert second.params_model.model_fields["window"].default == 30


def test_a_module_added_to_the_folder_later_is_found(project: Path) -> None:
    (project / "strategies").mkdir()
    with pytest.raises(ConfigError):
        resolve_class(config("later:Later"))
    write_module(project / "strategies", "later", name="Later")
    assert resolve_class(config("later:Later")).__name__ == "Later"


def test_a_folder_module_shadows_no_installed_module(project: Path) -> None:
    write_module(project / "strategies", "json", name="JsonStrategy")
    assert resolve_class(config("json:JsonStrategy")).__name__ == "JsonStrategy"
    assert json.dumps({"a": 1}) == '{"a": 1}'  # the standard library's json is untouched


def test_modules_in_the_folder_import_each_other_and_subpackages_work(project: Path) -> None:
    folder = project / "strategies"
    write_module(folder, "trend.breakout", name="TrendBreakout")
    (folder / "trend" / "__init__.py").write_text("")
    (folder / "helpers.py").write_text("WINDOW = 7\n")
    (folder / "uses_helpers.py").write_text(
        "from .helpers import WINDOW\n" + MODULE.format(name="Helped", default="WINDOW")
    )
    assert resolve_class(config("trend.breakout:TrendBreakout")).__name__ == "TrendBreakout"
    helped = resolve_class(config("uses_helpers:Helped"))
    assert helped.params_model.model_fields["window"].default == 7


def test_installed_package_classes_still_resolve(project: Path) -> None:
    write_module(project / "strategies", "breakout")
    strategy = build_strategy(
        config("quant_strategy.builtin.momentum:SmaCrossover").updated(
            params={"fast": 5, "slow": 10}
        )
    )
    assert type(strategy).__name__ == "SmaCrossover"


def test_a_missing_module_says_where_it_was_looked_for(project: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_class(config("my_package.breakout:Breakout"))
    assert info.value.field == "class"
    message = str(info.value)
    assert "cannot import module 'my_package.breakout'" in message
    assert f"strategies folder {project / 'strategies'} ({ENV_VAR})" in message


def test_a_syntax_error_in_the_module_names_its_file_and_line(project: Path) -> None:
    path = project / "strategies" / "broken.py"
    path.parent.mkdir()
    path.write_text("x = 1\ndef nope(:\n")
    with pytest.raises(ConfigError) as info:
        resolve_class(config("broken:Broken"))
    assert info.value.field == "class"
    assert f"{path}:2: syntax error" in str(info.value)


def test_a_module_that_raises_on_import_is_a_config_error(project: Path) -> None:
    path = project / "strategies" / "raises.py"
    path.parent.mkdir()
    path.write_text("raise RuntimeError('no API key')\n")
    with pytest.raises(ConfigError) as info:
        resolve_class(config("raises:Raises"))
    assert "importing 'raises' failed: RuntimeError: no API key" in str(info.value)
