"""backtest() for notebooks: a config by id or path with overrides, on the samples by default;
the same numbers as run(), as DataFrames and a dict; mistakes name the field; the docs example runs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quant_backtest import Backtest, backtest, run
from quant_domain import ConfigError
from quant_engine import BacktestConfig
from quant_marketdata import SampleSource
from quant_strategy import load_strategy_config
from quant_strategy.strategy_folder import ENV_VAR

ROOT = Path(__file__).resolve().parents[3]
MOMENTUM = ROOT / "configs" / "strategies" / "momentum_v1.yaml"


@pytest.fixture
def in_project(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The checkout as the working directory, its strategies/ folder the default one."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv(ENV_VAR, raising=False)
    return ROOT


def test_backtest_by_id_matches_run_with_the_same_settings(in_project: Path) -> None:
    result = backtest(
        "momentum_v1",
        params={"fast": 10},
        start="2010-01-04",
        end="2014-12-31",
        initial_capital=250_000,
        commission_per_trade=0.5,
    )
    config = load_strategy_config(MOMENTUM).updated(params={"fast": 10, "slow": 50})
    direct = run(
        config,
        SampleSource(),
        BacktestConfig(
            initial_capital=Decimal(250_000),
            commission_per_trade=Decimal("0.5"),
            start=date(2010, 1, 4),
            end=date(2014, 12, 31),
        ),
    )
    assert isinstance(result, Backtest)
    np.testing.assert_array_equal(result.equity["equity"].to_numpy(), direct.equity["equity"])
    assert result.metrics == direct.metrics.as_dict()
    assert result.result.backtest_config["initial_capital"] == "250000"


def test_the_frames_carry_the_curve_and_every_trade(in_project: Path) -> None:
    result = backtest(MOMENTUM, start="2005-01-03", end="2012-12-31")
    equity = result.equity
    assert list(equity.columns) == [
        "equity",
        "cash",
        "positions_value",
        "gross_exposure",
        "drawdown",
        "benchmark",
    ]
    assert isinstance(equity.index, pd.DatetimeIndex)
    assert equity["drawdown"].max() == 0.0
    assert equity["drawdown"].min() == pytest.approx(-result.metrics["max_drawdown_pct"])
    trades = result.trades
    assert len(trades) == len(result.result.trades)
    closed = trades[trades["status"] == "closed"]
    assert len(closed) == result.metrics["num_trades"]
    assert closed["pnl"].sum() == pytest.approx(
        float(sum(t.pnl for t in result.result.trades if not t.is_open))
    )


def test_a_strategy_from_the_strategies_folder_runs_by_id(in_project: Path) -> None:
    result = backtest("breakout_v1", params={"window": 50}, start="2010-01-04", end="2012-12-31")
    assert result.result.strategy_config["class"] == "breakout:Breakout"
    assert result.result.strategy_config["params"] == {"window": 50}


def test_sizing_is_laid_over_the_configs_and_the_seed_defaults_to_it(in_project: Path) -> None:
    result = backtest("momentum_v1", sizing={"fraction": 0.5}, end="2003-12-31")
    assert result.result.backtest_config["sizing"]["fraction"] == 0.5
    assert result.result.backtest_config["sizing"]["mode"] == "fraction"
    assert result.result.metadata.seed == 0


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"strategy": "no_such_id"}, "strategy: no strategy config with id 'no_such_id'"),
        ({"params": {"fast": 0}}, "params.fast: Input should be greater than or equal to 1"),
        ({"initial_capital": -1}, "initial_capital: Input should be greater than 0"),
        ({"capital": 1000}, "capital: the setting is called initial_capital now"),
        ({"start": "2015-01-01", "end": "2014-01-01"}, "start/end: start (2015-01-01) is after"),
        (
            {"start": "2019-06-03"},
            "start: no SP500 bars on or after 2019-06-03: SP500 has bars from 1999-01-04",
        ),
        ({"universe": ["NOPE"]}, "universe.0: unknown symbol 'NOPE'"),
    ],
)
def test_mistakes_are_config_errors_naming_the_field(
    in_project: Path, kwargs: dict[str, object], expected: str
) -> None:
    strategy = str(kwargs.pop("strategy", "momentum_v1"))
    with pytest.raises(ConfigError) as info:
        backtest(strategy, **kwargs)  # type: ignore[arg-type]
    assert expected in str(info.value)


def test_the_docs_example_script_runs_as_written() -> None:
    env = {k: v for k, v in os.environ.items() if k not in (ENV_VAR, "PYTHONPATH")}
    done = subprocess.run(
        [sys.executable, "docs/examples/notebook_backtest.py"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "momentum_v1: Sharpe" in done.stdout
    assert "breakout" in done.stdout
    assert done.stderr == ""
