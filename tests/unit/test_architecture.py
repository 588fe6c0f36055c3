"""The layer rule (docs/adr/0002-layer-rule.md) holds: import-linter keeps every contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_are_all_kept() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = (ROOT / "pyproject.toml").read_text().count("[[tool.importlinter.contracts]]")
    assert contracts >= 6
    assert f"{contracts} kept, 0 broken" in result.stdout


def test_every_workspace_member_ships_py_typed() -> None:
    members = [
        *ROOT.glob("packages/*/src/*"),
        *ROOT.glob("services/*/src/*"),
        *ROOT.glob("apps/cli/src/*"),
    ]
    assert len(members) == 17
    assert all((m / "py.typed").exists() for m in members)
