"""The lazy command registry: help reads as if every command were loaded, yet loads almost nothing."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest
import typer

from quant_cli.main import COMMANDS, app
from quant_cli.registry import Registered, lazy_group

# the libraries that made `quant --help` take 4 s (measured with python -X importtime)
HEAVY = (
    "pandas",
    "numpy",
    "numba",
    "scipy",
    "pyarrow",
    "exchange_calendars",
    "plotly",
    "sqlalchemy",
    "alembic",
    "asyncpg",
    "fastapi",
    "uvicorn",
    "quant_api",
    "quant_backtest",
)
# renders each argv's help in one fresh interpreter, then reports what is in sys.modules
RENDER = """
import json, sys
from quant_cli.main import main
for argv in json.loads(sys.argv[1]):
    sys.argv = ["quant", *argv]
    try:
        main()
    except SystemExit as exc:
        assert exc.code in (0, None), (argv, exc.code)
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_after_help(*argvs: list[str]) -> set[str]:
    """Top-level names of the modules a fresh `quant` process imported to print these helps."""
    done = subprocess.run(
        [sys.executable, "-c", RENDER, json.dumps(argvs)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: quant" in done.stdout
    modules = json.loads(done.stderr.strip().splitlines()[-1])
    return {name.partition(".")[0] for name in modules} | set(modules)


def eager_app() -> typer.Typer:
    """The CLI wired the way main.py did before the registry: every command imported up front."""
    eager = typer.Typer(
        name="quant",
        help="Quant platform: backtest strategies, inspect data, run the services.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for entry in COMMANDS:
        module, _, attribute = entry.target.partition(":")
        target = getattr(importlib.import_module(module), attribute)
        if isinstance(target, typer.Typer):
            eager.add_typer(target, name=entry.name)
        else:
            eager.command(entry.name)(target)
    return eager


def command_paths() -> list[list[str]]:
    """The root, every command and every subcommand of every group."""
    paths: list[list[str]] = [[]]
    root = typer.main.get_command(eager_app())
    assert isinstance(root, typer.core.TyperGroup)
    for name, command in root.commands.items():
        paths.append([name])
        if isinstance(command, typer.core.TyperGroup):
            paths += [[name, sub] for sub in command.commands]
    return paths


def render_help(
    command: typer.core.TyperGroup, path: list[str], capsys: pytest.CaptureFixture[str]
) -> str:
    command.main([*path, "--help"], prog_name="quant", standalone_mode=False)
    out, err = capsys.readouterr()
    assert err == ""
    return out


def test_every_help_screen_matches_the_eagerly_wired_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    eager = typer.main.get_command(eager_app())
    assert isinstance(eager, typer.core.TyperGroup)
    paths = command_paths()
    # subcommands: strategies 1, data 4, features 1, brokers 1, db 3, users 6, api-keys 3,
    # execution 1, monitoring 1, reconcile 3, kill-switch 4, risk 4, models 4
    assert len(paths) == 1 + len(COMMANDS) + 36
    for path in paths:
        expected = render_help(eager, path, capsys)
        assert render_help(app, path, capsys) == expected, path
        assert "Usage: quant" in expected


def test_registry_lists_each_command_once_in_the_order_help_shows_them() -> None:
    names = [entry.name for entry in COMMANDS]
    assert len(set(names)) == len(names)
    assert app.list_commands(typer.Context(app)) == names


def test_help_of_the_root_and_of_every_group_imports_no_heavy_library() -> None:
    # `--role` choices come from the identity table's enum (SQLAlchemy): see the test below
    with_roles = ("users", "api-keys")
    groups = [[e.name] for e in COMMANDS if e.target.endswith("_app") and e.name not in with_roles]
    loaded = loaded_after_help(["--help"], [], *groups, *([*g, "--help"] for g in groups))
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert "quant_cli.backtest_cmd" not in loaded
    assert "quant_cli.api_cmd" not in loaded


def test_help_of_quick_commands_imports_no_heavy_library() -> None:
    loaded = loaded_after_help(
        ["strategies", "list", "--help"],
        ["data", "ingest", "--help"],
        ["data", "validate", "--help"],
        ["db", "upgrade", "--help"],
        ["db", "downgrade", "--help"],
        ["db", "url", "--help"],
        ["up", "--help"],
    )
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_help_of_strategy_commands_loads_the_engine_but_not_numba_reports_or_servers() -> None:
    loaded = loaded_after_help(
        ["backtest", "--help"], ["check-lookahead", "--help"], ["walk-forward", "--help"]
    )
    assert "quant_engine" in loaded  # the fill-timing, objective and window choices live there
    absent = set(HEAVY) - {"pandas", "numpy", "pyarrow"}
    assert loaded.isdisjoint(absent), sorted(loaded & absent)


def test_help_of_api_and_users_commands_loads_no_web_stack() -> None:
    loaded = loaded_after_help(
        ["api", "--help"],
        ["users", "--help"],
        ["users", "create", "--help"],
        ["api-keys", "--help"],
        ["api-keys", "create", "--help"],
        ["worker", "--help"],
    )
    assert "sqlalchemy" in loaded  # `--role` choices come from the identity table's enum
    absent = set(HEAVY) - {"sqlalchemy"}
    assert loaded.isdisjoint(absent), sorted(loaded & absent)


def test_a_command_whose_module_is_missing_fails_loudly_when_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    group = lazy_group(
        typer.Typer(name="quant", add_completion=False),
        [
            Registered("gone", "quant_cli.no_such_module:command", "Listed, but cannot load."),
            Registered("typo", "quant_cli.db_cmd:no_such_app", "Listed, but misnamed."),
        ],
    )
    group.main(["--help"], prog_name="quant", standalone_mode=False)
    assert "Listed, but cannot load." in capsys.readouterr().out
    with pytest.raises(ModuleNotFoundError, match=r"quant_cli\.no_such_module"):
        group.main(["gone"], prog_name="quant", standalone_mode=False)
    with pytest.raises(AttributeError, match="no_such_app"):
        group.main(["typo", "--help"], prog_name="quant", standalone_mode=False)
