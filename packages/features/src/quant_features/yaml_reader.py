"""YAML from users (strategy and feature-set files), read with bounds: one ConfigError per problem.

PyYAML's safe loader shares one node per anchor, so a few lines of aliases ("billion laughs")
describe billions of nodes; whatever walks the document afterwards (field lines, validation,
JSON) pays for each one. Aliases are therefore counted while the file is composed, and the
document's expanded size is measured before anything is built from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent

from quant_domain import ConfigError

MAX_ALIASES = 100
"""Alias uses (`*name`) one document may hold."""
MAX_NODES = 100_000
"""Nodes a document may describe once every alias is expanded (a 500-symbol config has ~600)."""
MAX_DEPTH = 64
"""Nesting levels; deeper documents are refused before Python's recursion limit is near."""


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed document: its node tree (for the line of each field) and the values built from it."""

    root: yaml.Node | None
    data: Any


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing too many aliases and too deep nesting while it composes."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped stub
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(
                    f"more than {MAX_ALIASES} aliases (*name); write the values out instead", line
                )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", line)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Refused(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_size(root: yaml.Node) -> None:
    """Refuse a document that expands past MAX_NODES or refers to itself, counting each shared
    node once (so the check costs the size of the file, not of its expansion)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _Refused("an alias refers to a node that contains it", node.start_mark.line + 1)
        open_nodes.add(key)
        total = 1
        for child in _children(node):
            total += size(child)
            if total > MAX_NODES:
                raise _Refused(
                    f"expands to more than {MAX_NODES:,} values through aliases",
                    node.start_mark.line + 1,
                )
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root)


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, max(position, 0)) + 1


def read_yaml(text: str, file: str | None = None, field: str | None = None) -> YamlDocument:
    """Parse one YAML document from a user, within the bounds above.

    Raises:
        ConfigError: syntax errors, control characters (a NUL byte), too many aliases, too deep
            or too large an expansion; it names `file` (or `field`) and the line.
    """
    try:
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as exc:  # the reader checks every character up front
        raise ConfigError(
            f"unacceptable character #x{exc.character:04x} ({exc.reason}); save it as plain "
            "UTF-8 text",
            file=file,
            line=_line_of(text, exc.position),
            field=field,
        ) from None
    try:
        root = loader.get_single_node()
        if root is not None:
            _check_size(root)
        data = None if root is None else loader.construct_document(root)
    except _Refused as exc:
        raise ConfigError(exc.message, file=file, line=exc.line, field=field) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(
            f"YAML syntax error: {exc.problem}", file=file, line=line, field=field
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=file, field=field) from None
    finally:
        loader.dispose()
    return YamlDocument(root, data)


def yaml_value(text: str, field: str) -> Any:
    """One value typed on a command line (`--set fast=10`), read as YAML within the same bounds."""
    return read_yaml(text, field=field).data


def line_map(node: yaml.Node | None, prefix: str = "") -> dict[str, int]:
    """The line of every dotted field path in a node tree ("features.2.length" -> 14)."""
    out: dict[str, int] = {}

    def walk(node: yaml.Node, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
                out[key] = key_node.start_mark.line + 1
                walk(value_node, key)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                key = f"{prefix}.{index}" if prefix else str(index)
                out[key] = item.start_mark.line + 1
                walk(item, key)

    if node is not None:
        walk(node, prefix)
    return out


def read_config_file(path: str | Path, what: str) -> str:
    """The text of a YAML config file; a ConfigError naming the file (and `what` it should have
    been) when it is missing or cannot be read as UTF-8 text."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", file=str(path)) from None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as exc:
        raise ConfigError(f"cannot read {what}: {exc.__class__.__name__}", file=str(path)) from None
