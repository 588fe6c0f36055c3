"""The command registry: each command's name, listing line and import path, loaded on first use.

`quant --help` only needs names and one line each, so the group lists stand-ins built from this
registry; a command's module (and pandas, numba, SQLAlchemy or FastAPI behind it) is imported
when that command is run or its own help is asked for (ADR 0015).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer import _click


@dataclass(frozen=True)
class Registered:
    """One command or group of commands, as `quant --help` lists it."""

    name: str
    target: str
    """`module:attribute`: a command function, or a `typer.Typer` holding subcommands."""
    help: str
    """The listing line: the first paragraph of the command's help (a test keeps them equal)."""


class LazyCommand(TyperCommand):
    """Stands in for a registered command: listed by name and help line, imported when run."""

    def __init__(self, entry: Registered, app: typer.Typer) -> None:
        super().__init__(entry.name, help=entry.help)
        self.entry = entry
        self._app = app
        self._loaded: _click.Command | None = None

    def load(self) -> _click.Command:
        """The real command; an import or name error propagates with its traceback."""
        if self._loaded is None:
            module, _, attribute = self.entry.target.partition(":")
            self._loaded = self._build(getattr(importlib.import_module(module), attribute))
        return self._loaded

    def _build(self, target: Any) -> _click.Command:
        # registered on a scratch Typer exactly as `app.command` / `app.add_typer` would be, then
        # converted with the settings of the app that lists it
        scratch = typer.Typer()
        if isinstance(target, typer.Typer):
            scratch.add_typer(target, name=self.entry.name)
            return typer.main.get_group_from_info(
                scratch.registered_groups[0],
                pretty_exceptions_short=self._app.pretty_exceptions_short,
                suggest_commands=self._app.suggest_commands,
                rich_markup_mode=self._app.rich_markup_mode,
            )
        scratch.command(self.entry.name)(target)
        return typer.main.get_command_from_info(
            scratch.registered_commands[0],
            pretty_exceptions_short=self._app.pretty_exceptions_short,
            rich_markup_mode=self._app.rich_markup_mode,
        )

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: _click.Context | None = None,
        **extra: Any,
    ) -> _click.Context:
        # the group parses and invokes through the returned context, whose command is the real one
        return self.load().make_context(info_name, args, parent=parent, **extra)


def lazy_group(app: typer.Typer, entries: Sequence[Registered]) -> TyperGroup:
    """`app` as a command group listing `entries`, none of them imported yet."""
    group = typer.main.get_group(app)
    for entry in entries:
        group.add_command(LazyCommand(entry, app))
    return group
