"""Backtests from Python, as in a notebook: run from the project folder with
`.venv/bin/python docs/examples/notebook_backtest.py`, or paste the cells into Jupyter started
there. docs/notebook.md explains each call; a test runs this file as it is."""

# %% A built-in strategy by id, on the bundled samples, with a param and two settings changed
import pandas as pd

from quant_backtest import backtest

momentum = backtest(
    "momentum_v1",
    params={"fast": 10},
    start="2010-01-04",
    end="2018-12-31",
    initial_capital=250_000,
    commission_per_trade=0.5,
)
print(
    f"momentum_v1: Sharpe {momentum.metrics['sharpe']:.2f}, {momentum.metrics['num_trades']} trades"
)

# %% The equity curve and the trades are DataFrames
equity = momentum.equity  # equity, cash, positions_value, gross_exposure, drawdown, benchmark
yearly = equity["equity"].resample("YE").last().pct_change().dropna()
print("yearly returns:", ", ".join(f"{ts.year} {r:+.1%}" for ts, r in yearly.items()))
trades = momentum.trades  # one row per trade: entry/exit time and price, pnl, return_pct, ...
print(f"best trade {trades['pnl'].max():,.0f}, worst {trades['pnl'].min():,.0f}")

# %% Your own strategy from strategies/ by id, compared with the benchmark over the same days
breakout = backtest("breakout_v1", params={"window": 50}, start="2010-01-04", end="2018-12-31")
hold = backtest("buy_and_hold", start="2010-01-04", end="2018-12-31")
columns = ["total_return", "annual_return", "sharpe", "max_drawdown_pct", "num_trades"]
table = pd.DataFrame(
    {
        name: run.metrics
        for name, run in {"momentum": momentum, "breakout": breakout, "hold": hold}.items()
    }
).T[columns]
print(table.round(3).to_string())

# %% The same report `quant backtest` writes, when you want to look at it in a browser
# momentum.write_report("reports/notebook")
