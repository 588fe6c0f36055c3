"""Wall time of the Python test suite (or a part of it) in one process and on xdist workers.

Run: .venv/bin/python bench/suite_wall_time.py [--workers 0 3] [--dist load] [PATH ...]

Each worker count runs pytest with `make test`'s options (coverage on, the floor off: a part of
the suite covers less), `-n 0` meaning one process, one after the other in the order given.
Prints per run the wall time, pytest's closing line and the load average before and after: on
a shared machine the other sessions' load moves between runs, so read ratios of runs close in
time and load, never one figure alone. Without PATHs it runs the whole suite (about 20 minutes
in one process on a quiet machine of 2 cores).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from _machine import describe, load_average

ROOT = Path(__file__).resolve().parents[1]
PYTEST = str(Path(sys.executable).parent / "pytest")


def run(workers: int, dist: str, paths: list[str]) -> tuple[float, str, int]:
    """One pytest run: its wall time, its closing line and its exit code."""
    command = [PYTEST, "-q", "-p", "no:cacheprovider", "--cov", "--cov-report="]
    command += ["--cov-fail-under=0", "-n", str(workers)]
    if workers:
        command += ["--dist", dist]
    started = time.perf_counter()
    done = subprocess.run([*command, *paths], cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return wall, (lines[-1] if lines else done.stderr.strip()[-300:]), done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 3])
    parser.add_argument("--dist", default="load", help="xdist's --dist for the runs with workers")
    parser.add_argument("paths", nargs="*", help="test paths (default: the whole suite)")
    args = parser.parse_args()
    print(describe())
    print(f"paths: {' '.join(args.paths) or 'tests (all)'}")
    for workers in args.workers:
        before = load_average()
        wall, closing, code = run(workers, args.dist, args.paths)
        label = "one process" if workers == 0 else f"-n {workers} --dist {args.dist}"
        print(f"{label}: {wall:.0f} s wall (exit {code}); load {before} -> {load_average()}")
        print(f"  {closing}")


if __name__ == "__main__":
    main()
