"""One backtest's speed: run() on its default path and on the event loop, beside backtesting.py
and vectorbt, on the same bars.

Run: .venv/bin/python bench/single_run.py [--bars 100000 1000000] [--repeat 2]
     [--venv .quant/bench-venv] [--skip-references]

The strategy is an SMA 10/20 crossover (momentum_v1's class: long while the fast SMA is above the
slow one, flat below), all-in sizing in whole units, 0.1 % commission billed unrounded
(commission_rounding none, as the other engines bill), no slippage, no per-trade fee, fills at
the signal bar's close, 100,000 of capital, on synthetic hourly bars (seed 7).

Every measurement runs in a fresh process pinned to one core and reports its peak resident memory:
- platform auto: run() as a user calls it (its default path, `engine: auto`), timed from the
  strategy config to the BacktestResult, metrics included; the numba kernels are loaded and the
  bars generated before the timing (a 200-bar warm-up run);
- platform event: the same, forced to the event loop (`engine: event`);
- backtesting.py 0.6.6: Backtest(...).run() (its statistics included), trade_on_close=True;
- vectorbt 1.2.0: the two moving averages, Portfolio.from_signals and final_value(), warmed up
  on 200 bars first (its numba compile is not timed).
The reference engines are installed by this script into a throwaway virtual environment (uv from
.quant/bootstrap, else python -m venv and pip); they are never dependencies of the platform. The
bars they see are the platform's own, handed over in an .npz file, on a zone-less index (UTC).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import describe, load_average

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "strategies" / "momentum_v1.yaml"
FAST, SLOW = 10, 20
CAPITAL = 100_000.0
COMMISSION = 0.001
REFERENCES = {"backtesting": "backtesting==0.6.6", "vectorbt": "vectorbt==1.2.0"}
ENGINES = ("auto", "event", "backtesting", "vectorbt")


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _source(bars: int) -> Any:
    from quant_marketdata import SyntheticSource  # noqa: PLC0415 - platform children only

    return SyntheticSource(seed=7, n_symbols=1, n_bars=bars, timeframe="1h")


def export_bars(bars: int, path: Path) -> None:
    """Write the platform's synthetic bars to `path` (.npz) for the reference engines."""
    import numpy as np  # noqa: PLC0415

    frame = _source(bars).get_bars("SYN000")
    np.savez(
        path,
        index=frame.index.asi8,
        **{c: frame[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close")},
        volume=frame["volume"].to_numpy(dtype=np.float64),
    )


def measure_platform(bars: int, engine: str, repeat: int) -> dict[str, Any]:
    """Time run() on `bars` synthetic hourly bars with `engine` in this (fresh) process."""
    from decimal import Decimal  # noqa: PLC0415

    from quant_backtest import run  # noqa: PLC0415
    from quant_engine import BacktestConfig  # noqa: PLC0415
    from quant_engine.config import CommissionRounding, EngineChoice  # noqa: PLC0415
    from quant_strategy import load_strategy_config  # noqa: PLC0415

    _pin_one_core()
    source = _source(bars)
    source.get_bars("SYN000")  # generated once, outside the timing (the source caches it)
    config = load_strategy_config(CONFIG).updated(
        universe=["SYN000"],
        benchmark=None,
        start=None,
        end=None,
        timeframe="1h",
        params={"fast": FAST, "slow": SLOW},
    )
    bt = BacktestConfig(
        initial_capital=Decimal(int(CAPITAL)),
        commission_per_trade=Decimal(0),
        commission_bps=Decimal(int(COMMISSION * 10_000)),
        commission_rounding=CommissionRounding.NONE,
        slippage_bps=Decimal(0),
        engine=EngineChoice(engine),
    )
    run(config, _source(200), bt)  # loads the compiled kernel (cold start is bench/cold_start.py's)
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = run(config, source, bt)
        times.append(time.perf_counter() - t0)
    assert result is not None
    return {
        "path": result.metadata.engine,
        "best_s": min(times),
        "fills": len(result.fills),
        "final_equity": float(result.equity["equity"].iloc[-1]),
    }


def _frame(data: Path) -> Any:
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    arrays = np.load(data)
    return pd.DataFrame(
        {c.capitalize(): arrays[c] for c in ("open", "high", "low", "close", "volume")},
        # UTC wall times without a zone: with a zone-aware index, vectorbt turned the index into
        # Python objects on every wrap of its output (1.4 of 1.6 s at 100k bars, measured)
        index=pd.DatetimeIndex(arrays["index"]),
    )


def measure_backtesting(data: Path, repeat: int) -> dict[str, Any]:
    """backtesting.py's Backtest(...).run() on the bars in `data`, in this (fresh) process."""
    import warnings  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415
    from backtesting import Backtest, Strategy  # noqa: PLC0415

    _pin_one_core()
    frame = _frame(data)

    def sma(values: Any, period: int) -> Any:
        return pd.Series(values).rolling(period).mean().to_numpy()

    class SmaCross(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self) -> None:
            fast, slow = self.fast[-1], self.slow[-1]
            if fast > slow and not self.position:
                self.buy()  # all the cash, whole units, commission included
            elif fast < slow and self.position:
                self.position.close()

    warnings.filterwarnings("ignore")
    times = []
    stats = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        backtest = Backtest(
            frame, SmaCross, cash=CAPITAL, commission=COMMISSION, trade_on_close=True
        )
        stats = backtest.run()
        times.append(time.perf_counter() - t0)
    assert stats is not None
    trades = stats["_trades"]
    return {
        "path": "python",
        "best_s": min(times),
        "fills": 2 * len(trades) + (1 if stats["_strategy"].position.size else 0),
        "final_equity": float(stats["Equity Final [$]"]),
    }


def measure_vectorbt(data: Path, repeat: int) -> dict[str, Any]:
    """vectorbt from the closes to the final value, in this (fresh) process."""
    import numpy as np  # noqa: PLC0415
    import vectorbt as vbt  # noqa: PLC0415

    _pin_one_core()
    close = _frame(data)["Close"]

    def final_value(prices: Any) -> tuple[float, int]:
        fast = vbt.MA.run(prices, FAST).ma
        slow = vbt.MA.run(prices, SLOW).ma
        portfolio = vbt.Portfolio.from_signals(
            prices,
            entries=fast > slow,
            exits=fast < slow,
            init_cash=CAPITAL,
            fees=COMMISSION,
            size=np.inf,
            size_granularity=1.0,
            freq="1h",
        )
        return float(portfolio.final_value()), len(portfolio.orders.records)

    final_value(close.iloc[:200])  # compiles (or loads) its numba functions, untimed
    times = []
    result = (0.0, 0)
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = final_value(close)
        times.append(time.perf_counter() - t0)
    return {
        "path": "vectorised",
        "best_s": min(times),
        "fills": result[1],
        "final_equity": result[0],
    }


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=False, capture_output=True, text=True)


def install_references(venv: Path) -> tuple[Path | None, dict[str, str]]:
    """A virtual environment holding the reference engines: its python, and per engine the
    errors of every way tried when none installed it (installed engines are not in the dict).

    Ways, in order: uv (the project's bootstrap copy) creating the environment and installing;
    then the standard library's venv with pip, in a fresh environment.
    """
    python = venv / "bin" / "python"
    uv = ROOT / ".quant" / "bootstrap" / "bin" / "uv"
    ways: list[tuple[str, list[list[str]], list[str]]] = []
    if uv.exists():
        create = [[str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)]]
        ways.append(("uv", create, [str(uv), "pip", "install", "--quiet", "--python", str(python)]))
    create = [[sys.executable, "-m", "venv", str(venv)]]
    create.append([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    ways.append(("python -m venv + pip", create, [str(python), "-m", "pip", "install", "--quiet"]))
    errors: dict[str, str] = {}
    installed: list[str] = []  # reinstalled into a fresh environment with the next one
    for engine, requirement in REFERENCES.items():
        if python.exists() and _importable(python, engine, requirement):
            installed.append(requirement)
            continue
        failures: list[str] = []
        for name, creating, install in ways:
            if not python.exists() or failures:  # a fresh environment for each new way
                shutil.rmtree(venv, ignore_errors=True)
                made = [_run(c) for c in creating]
                if any(m.returncode for m in made):
                    failures.append(f"{name}: {_tail(made[-1])}")
                    continue
            done = _run([*install, *installed, requirement])
            if done.returncode == 0 and _importable(python, engine, requirement):
                installed.append(requirement)
                break
            failures.append(f"{name}: {_tail(done)}")
        else:
            errors[engine] = " | ".join(failures)
    return (python if python.exists() else None), errors


def _importable(python: Path, module: str, requirement: str) -> bool:
    version = requirement.split("==")[1]
    check = f"import {module}, sys; sys.exit({module}.__version__ != {version!r})"
    return _run([str(python), "-c", check]).returncode == 0


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    return " / ".join(lines[-3:]) or f"exit {done.returncode}"


def _child(python: Path, engine: str, bars: int, repeat: int, data: Path) -> dict[str, Any]:
    command = [str(python), __file__, "--child", engine, "--bars", str(bars)]
    out = _run([*command, "--repeat", str(repeat), "--data", str(data)])
    if out.returncode:
        return {"error": _tail(out)}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _row(bars: int, engine: str, row: dict[str, Any]) -> str:
    if "error" in row:
        return f"{bars:>10,} {engine:>12}  failed: {row['error']}"
    return (
        f"{bars:>10,} {engine:>12} {row['path']:>10} {bars / row['best_s']:>12,.0f} "
        f"{row['best_s']:>9.3f} {row['peak_rss_mb']:>8.0f} {row['fills']:>7} "
        f"{row['final_equity']:>17,.4f}"
    )


def _ratio(rows: dict[str, dict[str, Any]], a: str, b: str) -> str:
    if "best_s" not in rows.get(a, {}) or "best_s" not in rows.get(b, {}):
        return "n/a"
    return f"{rows[b]['best_s'] / rows[a]['best_s']:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bars", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--venv", type=Path, default=ROOT / ".quant" / "bench-venv")
    parser.add_argument("--skip-references", action="store_true")
    parser.add_argument("--child", choices=[*ENGINES, "export"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        bars = args.bars[0]
        if args.child == "export":
            export_bars(bars, args.data)
            return
        if args.child in ("auto", "event"):
            row = measure_platform(bars, args.child, args.repeat)
        elif args.child == "backtesting":
            row = measure_backtesting(args.data, args.repeat)
        else:
            row = measure_vectorbt(args.data, args.repeat)
        print(json.dumps({**row, "peak_rss_mb": _peak_mb()}))
        return
    print(describe())
    print("uptime:", _run(["uptime"]).stdout.strip())
    reference_python, errors = (None, {}) if args.skip_references else install_references(args.venv)
    for engine, error in errors.items():
        print(f"{engine} could not be installed: {error}")
    print(
        f"{'bars':>10} {'engine':>12} {'path':>10} {'bars/s':>12} {'best s':>9} {'peak MB':>8} "
        f"{'fills':>7} {'final equity':>17}"
    )
    with tempfile.TemporaryDirectory(prefix="single-run-") as folder:
        for bars in args.bars:
            data = Path(folder) / f"bars-{bars}.npz"
            export = [sys.executable, __file__, "--child", "export", "--bars", str(bars)]
            subprocess.run([*export, "--data", str(data)], check=True)
            rows: dict[str, dict[str, Any]] = {}
            for engine in ENGINES:
                platform = engine in ("auto", "event")
                if not platform and (reference_python is None or engine in errors):
                    continue
                python = Path(sys.executable) if platform else reference_python
                assert python is not None
                rows[engine] = _child(python, engine, bars, args.repeat, data)
                print(_row(bars, engine, rows[engine]), flush=True)
            equities = {e: r["final_equity"] for e, r in rows.items() if "final_equity" in r}
            cents = {round(v, 2) for v in equities.values()}
            print(
                f"{'':>10} default path vs vectorbt {_ratio(rows, 'auto', 'vectorbt')}, "
                f"event loop vs backtesting.py {_ratio(rows, 'event', 'backtesting')}, "
                f"default path vs event loop {_ratio(rows, 'auto', 'event')} (speed ratios); "
                f"final equities agree to the cent: {len(cents) == 1}"
            )
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
