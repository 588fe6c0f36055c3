"""`quant paper-replay`: a paper session over stored bars in this process, checked for parity."""
# ruff: noqa: PLC0415 - the replay, strategies and reports load when the command runs, not for --help

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from quant_cli.data_options import DataOption, EndOption, StartOption
from quant_cli.errors import user_errors
from quant_cli.model_loading import loaded_models
from quant_cli.options import (
    DEFAULT_CAPITAL,
    DEFAULT_COMMISSION,
    DEFAULT_COMMISSION_BPS,
    DEFAULT_SLIPPAGE_BPS,
    CommissionBpsOption,
    CommissionPerTradeOption,
    FillTimingOption,
    InitialCapitalOption,
    SlippageOption,
    make_backtest_config,
)
from quant_cli.progress import progress_bar
from quant_cli.sources import open_data
from quant_engine import FillTiming

SHOWN = 20
"""Differences listed one per line; the rest are counted in the summary."""


@user_errors
def paper_replay_command(
    config_path: Annotated[Path, typer.Argument(metavar="CONFIG", help="strategy YAML file")],
    data: DataOption = None,
    start: StartOption = None,
    end: EndOption = None,
    speed: Annotated[
        str, typer.Option(help="replay pace: 1x (as the bars were apart), 60x, ... or max")
    ] = "max",
    initial_capital: InitialCapitalOption = DEFAULT_CAPITAL,
    commission_per_trade: CommissionPerTradeOption = DEFAULT_COMMISSION,
    commission_bps: CommissionBpsOption = DEFAULT_COMMISSION_BPS,
    slippage_bps: SlippageOption = DEFAULT_SLIPPAGE_BPS,
    fill_timing: FillTimingOption = FillTiming.CLOSE,
) -> None:
    """Paper-trade CONFIG over stored bars replayed step by step, checked against a backtest.

    The bars replay at --speed, in this process; the session is then lined up with a backtest of
    the same bars order by order (exit 1 unless they are identical). It runs the same decision loop, risk gate and simulated broker as a backtest and
    keeps nothing: the execution service, which persists paper sessions and shows them on the
    dashboard, is not built yet.
    """
    from quant_backtest.paper_replay import replay_paper
    from quant_marketdata.replay import parse_speed
    from quant_strategy import load_strategy_config

    pace = parse_speed(speed)
    console = Console()
    config = load_strategy_config(config_path)
    bt = make_backtest_config(
        capital=initial_capital,
        commission=commission_per_trade,
        commission_bps=commission_bps,
        slippage_bps=slippage_bps,
        fill_timing=fill_timing,
        start=start,
        end=end,
        seed=config.seed,
    )
    source = open_data(data or config.data or "samples")
    with (
        loaded_models(config),
        progress_bar(console, f"paper {config.id}", "steps") as report,
    ):
        outcome = replay_paper(config, source, bt, speed=pace, on_step=report)
    paper = outcome.paper
    console.print(
        f"[bold]{config.id}[/bold] paper session on {source.name}: {outcome.steps} steps, "
        f"{len(paper.orders)} orders, {len(paper.fills)} fills, "
        f"final equity {paper.final_equity:,.2f}"
    )
    parity = outcome.parity
    console.print(f"parity with the backtest of the same bars: {parity.summary()}")
    for line in parity.differences[:SHOWN]:
        console.print(
            f"  {line.decided_at:%Y-%m-%d %H:%M} {line.symbol} {line.client_order_id}: "
            f"{line.verdict}: {line.detail}"
        )
    if not parity.identical:
        raise typer.Exit(1)
