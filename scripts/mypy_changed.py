"""pre-commit hook: mypy --strict over each workspace member that has a changed Python file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def member_sources(files: list[str]) -> list[str]:
    """The `src` folder of each member (packages/X, services/X, apps/cli) a changed file is in."""
    roots: set[str] = set()
    for name in files:
        parts = Path(name).parts
        if len(parts) >= 3 and parts[0] in {"packages", "services"} and parts[2] == "src":
            roots.add(str(Path(*parts[:3])))
        elif parts[:3] == ("apps", "cli", "src"):
            roots.add("apps/cli/src")
    return sorted(roots)


def main(argv: list[str]) -> int:
    roots = member_sources(argv)
    if not roots:
        return 0
    return subprocess.call([str(Path(".venv/bin/mypy")), *roots])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
