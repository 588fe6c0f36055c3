"""Load strategy configs from YAML, turning every mistake into one ConfigError with file and line."""

from __future__ import annotations

import importlib
from collections.abc import Collection
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from pydantic import ValidationError

from quant_domain import ConfigError
from quant_domain.errors import first_validation_error
from quant_strategy.base import Strategy
from quant_strategy.config import ConfigSource, StrategyConfig
from quant_strategy.strategy_folder import ENV_VAR, import_from_folder, strategies_path
from quant_strategy.yaml_reader import read_config_file, read_yaml, yaml_value


def _line_map(node: yaml.Node, prefix: str, out: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            out[key] = key_node.start_mark.line + 1
            _line_map(value_node, key, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key = f"{prefix}.{index}" if prefix else str(index)
            out[key] = item.start_mark.line + 1
            _line_map(item, key, out)


def parse_strategy_config(text: str, file: str) -> StrategyConfig:
    """Validate YAML `text` as a StrategyConfig; `file` is used in error messages."""
    # one parse: the node tree gives each field's line, the document built from it the values
    document = read_yaml(text, file)
    root, data = document.root, document.data
    if not isinstance(data, dict) or root is None:
        raise ConfigError(
            "expected a mapping of fields (id, class, universe, params, ...)", file=file, line=1
        )
    lines: dict[str, int] = {}
    _line_map(root, "", lines)
    source = ConfigSource(file=file, lines=lines)
    try:
        config = StrategyConfig.model_validate(data)
    except ValidationError as exc:
        path, message = first_validation_error(exc, unknown="unknown field (check the spelling)")
        path = path or "(top level)"
        if path == "class_path":
            path = "class"
        raise ConfigError(message, file=file, line=source.line_of(path) or 1, field=path) from None
    return config.with_source(source)


def load_strategy_config(
    path: str | Path, known_symbols: Collection[str] | None = None
) -> StrategyConfig:
    """Read and validate a strategy YAML file; with `known_symbols`, refuse symbols not in it."""
    config = parse_strategy_config(read_config_file(path, "strategy config"), str(path))
    if known_symbols is not None:
        check_symbols(config, known_symbols)
    return config


def check_symbols(config: StrategyConfig, known_symbols: Collection[str]) -> None:
    """Raise a ConfigError at the first universe or benchmark symbol the data source lacks."""
    known = set(known_symbols)
    if known:
        hint = (
            "the data source has "
            + ", ".join(sorted(known)[:12])
            + (" ..." if len(known) > 12 else "")
        )
    else:
        hint = (
            "the data source has no symbols at all (for --data db: run `quant data ingest` first)"
        )
    for index, symbol in enumerate(config.universe):
        if symbol not in known:
            raise config.error(f"universe.{index}", f"unknown symbol {symbol!r}; {hint}")
    if config.benchmark is not None and config.benchmark not in known:
        raise config.error("benchmark", f"unknown symbol {config.benchmark!r}; {hint}")


def _import(config: StrategyConfig, module_name: str) -> ModuleType:
    """The module from the user's strategies folder when it defines it, else the installed one."""
    folder = strategies_path()
    try:
        module = import_from_folder(module_name, folder)
        return module if module is not None else importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name.split(".")[0]):
            raise config.error(
                "class",
                f"cannot import module {module_name!r} ({exc.msg}); put {module_name}.py in "
                f"the strategies folder {folder} ({ENV_VAR}) or install its package",
            ) from None
        raise config.error("class", f"importing {module_name!r} failed: {exc.msg}") from None
    except SyntaxError as exc:
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else module_name
        raise config.error("class", f"{where}: syntax error: {exc.msg}") from None
    except Exception as exc:  # the user's module raised while it was imported
        raise config.error(
            "class", f"importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from None


def resolve_class(config: StrategyConfig) -> type[Strategy[Any]]:
    """The class `config.class_path` names ("module:Class"): from the user's strategies folder
    when it holds that module (re-imported after an edit), else from the installed packages."""
    module_name, _, class_name = config.class_path.partition(":")
    module = _import(config, module_name)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise config.error("class", f"module {module_name!r} has no class {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise config.error("class", f"{config.class_path} is not a Strategy subclass")
    return cls


def check_params(config: StrategyConfig) -> type[Strategy[Any]]:
    """The class a config names, once its params validate; nothing is instantiated.

    Raises:
        ConfigError: the class cannot be imported or the params are invalid (file and line).
    """
    cls = resolve_class(config)
    cls.parse_params(config)
    return cls


def build_strategy(config: StrategyConfig) -> Strategy[Any]:
    """Instantiate and initialise the strategy a config names; params errors name their line."""
    strategy = resolve_class(config)()
    strategy.initialize(config)
    return strategy


def apply_overrides(config: StrategyConfig, assignments: list[str]) -> StrategyConfig:
    """Apply `--set name=value` params overrides (values parsed as YAML scalars)."""
    params = dict(config.params)
    names: set[str] = set()
    for assignment in assignments:
        name, sep, raw = assignment.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--set expects NAME=VALUE, got {assignment!r}", field="--set")
        name = name.removeprefix("params.")
        names.add(name)
        params[name] = yaml_value(raw, f"--set {name}") if raw.strip() else raw
    return config.updated(overridden=frozenset(names), params=params)
