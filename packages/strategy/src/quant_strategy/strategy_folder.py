"""The user's strategies folder: modules a config's `class` names load from it, fresh after edits.

`class: breakout:Breakout` finds `breakout.py` (or a `breakout/` package) in the folder
QUANT_STRATEGIES_PATH names (the environment, else `.env` in the working directory, else
`./strategies`), so the CLI, the API and the worker load it with no PYTHONPATH set. Its modules
are imported as submodules of the package `quant_user_strategies` (so a file called `json.py`
shadows nothing, and files import each other with `from .helpers import x`). Whenever a `.py`
file in the folder changes, the next lookup imports the folder afresh: a long-running worker or
API runs the code as it is on disk now. Names not in the folder import as installed modules.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import CodeType, ModuleType

from dotenv import dotenv_values

ENV_VAR = "QUANT_STRATEGIES_PATH"
DEFAULT_FOLDER = Path("strategies")
PACKAGE = "quant_user_strategies"
"""The package the folder's modules are imported under."""

Fingerprint = tuple[tuple[str, int, int], ...]

_lock = threading.RLock()
_mounted: tuple[str, Fingerprint] | None = None
_dotenv_cache: dict[str, tuple[tuple[int, int], str | None]] = {}


def _from_dotenv(path: Path) -> str | None:
    """QUANT_STRATEGIES_PATH as `path` (a .env file) sets it; read again only when it changes."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key, stamp = str(path.absolute()), (stat.st_mtime_ns, stat.st_size)
    cached = _dotenv_cache.get(key)
    if cached is None or cached[0] != stamp:
        cached = (stamp, dotenv_values(path).get(ENV_VAR))
        _dotenv_cache[key] = cached
    return cached[1]


def strategies_path() -> Path:
    """The strategies folder, absolute: QUANT_STRATEGIES_PATH from the environment, else from
    `.env` in the working directory (as every other setting is read), else `./strategies`."""
    value = os.environ.get(ENV_VAR)
    if value is None:
        value = _from_dotenv(Path(".env"))
    folder = Path(value.strip()).expanduser() if value and value.strip() else DEFAULT_FOLDER
    return Path(os.path.abspath(folder))


def config_files(folder: Path) -> list[Path]:
    """The strategy configs (`*.yaml`, `*.yml`) directly in `folder`, sorted; none if missing."""
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def fingerprint(folder: Path, suffixes: Sequence[str] = (".py",)) -> Fingerprint:
    """(path, mtime, size) of every file with one of `suffixes` in `folder` and in its package
    subfolders (those with an `__init__.py`); empty when the folder does not exist."""
    found: list[tuple[str, int, int]] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith((".", "__pycache__")):
                continue
            try:
                if entry.is_dir():
                    if os.path.isfile(os.path.join(entry.path, "__init__.py")):
                        pending.append(Path(entry.path))
                elif entry.name.endswith(tuple(suffixes)):
                    stat = entry.stat()
                    found.append((entry.path, stat.st_mtime_ns, stat.st_size))
            except OSError:  # removed while we looked: the next look sees it gone
                continue
    return tuple(sorted(found))


def module_file(folder: Path, module_name: str) -> Path | None:
    """The file that defines `module_name` ("breakout", "pkg.breakout") in `folder`, if any."""
    base = folder.joinpath(*module_name.split("."))
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


class _SourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles from the source every time: a cached .pyc written in the same second as an
    edit could otherwise hide it, and the user's folder gets no __pycache__."""

    def get_code(self, fullname: str) -> CodeType:
        return self.source_to_code(self.get_data(self.path), self.path)


class _FolderFinder(importlib.abc.MetaPathFinder):
    """Finds `quant_user_strategies.*` modules in the folder mounted under that package."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(PACKAGE + ".") or not path:
            return None
        name = fullname.rpartition(".")[2]
        for directory in path:
            package = Path(directory, name)
            init = package / "__init__.py"
            if init.is_file():
                loader = _SourceLoader(fullname, str(init))
                return importlib.util.spec_from_file_location(
                    fullname, init, loader=loader, submodule_search_locations=[str(package)]
                )
            module = Path(directory, name + ".py")
            if module.is_file():
                loader = _SourceLoader(fullname, str(module))
                return importlib.util.spec_from_file_location(fullname, module, loader=loader)
        return None


_FINDER = _FolderFinder()


def _mount(folder: Path) -> None:
    """Forget every module imported from the folder before, then make `folder` the package."""
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    package = importlib.util.module_from_spec(spec)
    package.__path__ = [str(folder)]
    sys.modules[PACKAGE] = package


def import_from_folder(module_name: str, folder: Path | None = None) -> ModuleType | None:
    """`module_name` imported from the strategies folder (default: strategies_path()), afresh when
    any .py file there changed since the last import; None when the folder does not define it.

    Exceptions the module raises while it is imported propagate (SyntaxError, ImportError, ...).
    """
    global _mounted  # noqa: PLW0603 - one mounted folder per process, guarded by _lock
    folder = folder or strategies_path()
    if module_file(folder, module_name) is None:
        return None
    with _lock:
        state = (str(folder), fingerprint(folder))
        if _mounted != state:
            _mount(folder)
            _mounted = state
        return importlib.import_module(f"{PACKAGE}.{module_name}")
