"""`quant compile`: compile the fast path's numba kernels once per install (make setup runs it)."""

# ruff: noqa: PLC0415 - numba and the kernels load when the command runs, not for --help

from __future__ import annotations

import typer


def compile_command() -> None:
    """Compile the fast path's kernels into numba's cache, so no first sweep or job waits for it."""
    from quant_engine.compilation import compile_kernels

    seconds = compile_kernels()
    typer.echo(f"fast-path kernels compiled (or loaded from numba's cache) in {seconds:.1f} s")
