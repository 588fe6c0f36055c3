"""How long the `quant` command takes to start: help screens and the bare import, in fresh processes.

Run: .venv/bin/python bench/cli_startup.py [--runs 10]

Each command runs --runs times, each time in a new process (nothing cached in memory between
runs; the files stay in the OS page cache after the first, which is what a user sees too).
Prints best and median wall time per command, the load average when its runs finished (the
machine may be shared: compare ratios between rows, not the last digit), and which of the heavy
libraries the command imported, probed once more in a separate run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _machine import describe

BIN = Path(sys.executable).parent
QUANT = str(BIN / "quant")
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
)
COMMANDS: tuple[tuple[str, list[str]], ...] = (
    ("quant --help", ["--help"]),
    ("quant data --help", ["data", "--help"]),
    ("quant db upgrade --help", ["db", "upgrade", "--help"]),
    ("quant backtest --help", ["backtest", "--help"]),
    ("quant walk-forward --help", ["walk-forward", "--help"]),
)
IMPORT = 'python -c "import quant_cli.main"'
# runs the CLI as the `quant` script does, then names the heavy libraries it left in sys.modules
PROBE = """
import sys
from quant_cli.main import main
sys.argv = ["quant", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print("loaded:", ",".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _loaded(args: list[str], env: dict[str, str]) -> str:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    line = next(x for x in probe.stderr.splitlines() if x.startswith("loaded:"))
    return line.removeprefix("loaded:").strip().replace(",", ", ") or "none of them"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10, help="fresh processes per command")
    args = parser.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {describe()}")
    print(f"heavy libraries looked for: {', '.join(HEAVY)}\n")
    env = {**os.environ, "COLUMNS": "80"}  # help is laid out to the terminal width: fix it
    rows = [(label, [QUANT, *argv], argv) for label, argv in COMMANDS]
    rows.append((IMPORT, [sys.executable, "-c", "import quant_cli.main"], []))
    for label, argv, probe_args in rows:
        _time(argv, env)  # warm the page cache; not counted
        times = [_time(argv, env) for _ in range(args.runs)]
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"{label:<34} best {min(times):5.2f} s  median {statistics.median(times):5.2f} s"
            f"  ({args.runs} runs; load average {load})"
        )
        if label != IMPORT:
            print(f"{'':<34} imports: {_loaded(probe_args, env)}")


if __name__ == "__main__":
    main()
