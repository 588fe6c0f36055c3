"""Which code is running: the one git lookup the API health route and run metadata share."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

CODE_VERSION_ENV = "QUANT_CODE_VERSION"


def _git(where: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=where, capture_output=True, text=True, timeout=5, check=True
    )
    return done.stdout.strip()


def code_version(
    short: bool = False, start: Path | None = None, *, fallback: str = "unknown"
) -> str:
    """QUANT_CODE_VERSION when set (container images have no .git), else the git commit of the
    checkout holding `start` (the full hash with -dirty when tracked files changed, or the short
    hash alone), else `fallback` (an installed wheel has no checkout)."""
    pinned = os.environ.get(CODE_VERSION_ENV)
    if pinned:
        return pinned
    where = start or Path(__file__).resolve().parent
    try:
        if short:
            return _git(where, "rev-parse", "--short", "HEAD") or fallback
        head = _git(where, "rev-parse", "HEAD")
        dirty = _git(where, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return fallback
    return f"{head}{'-dirty' if dirty else ''}"
