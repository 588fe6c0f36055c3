"""A paper session over stored history, in this process, checked against a backtest of the bars.

The bars are replayed step by step (quant_marketdata.replay) into a PaperSession: the same
TradingLoop, risk gate, order lifecycle and simulated broker as a backtest, learning each step
only when it closes. The backtest of the same bars, config and account then runs, and the
parity report lines the two up order by order. This is the decision core of paper trading; the
execution service (issue 12) adds the bus, the database and the dashboard around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from quant_backtest.runner import (
    load_frames,
    run_engine,
    run_seed,
    seed_everything,
    trading_start,
    universe_calendar,
)
from quant_domain.ports import OrderJournal
from quant_engine import BacktestConfig, EngineRun, build_timeline
from quant_engine.paper import PaperSession
from quant_engine.parity import ParityReport, parity_report
from quant_marketdata import DataSource
from quant_marketdata.replay import Replay, replay_steps
from quant_strategy import StrategyConfig, build_strategy

PAPER_ACCOUNT = "paper"


@dataclass(frozen=True, slots=True)
class PaperReplay:
    """The paper session's result, the backtest's over the same bars, and their parity report."""

    paper: EngineRun
    backtest: EngineRun
    parity: ParityReport
    steps: int


def replay_paper(
    strategy_config: StrategyConfig,
    data: DataSource,
    config: BacktestConfig,
    *,
    speed: float | None = None,
    on_step: Callable[[int, int], None] | None = None,
    journal: OrderJournal | None = None,
) -> PaperReplay:
    """Paper-trade `strategy_config` over `data`'s bars in `config`'s date range at `speed`
    (None: as fast as it goes), then compare with the backtest of the same bars. `journal`
    writes each order down before the paper broker sees it (quant_db.journal on PostgreSQL)."""
    frames, _ = load_frames(strategy_config, data, config)
    calendar = universe_calendar(strategy_config, data)
    instruments = {symbol: data.instrument(symbol) for symbol in frames}
    timeline = build_timeline(frames, calendar)
    warmup = trading_start(timeline, strategy_config, config)
    # the same seed as the backtest below, so a strategy that draws random numbers draws the same
    seed_everything(run_seed(strategy_config, config))
    session = PaperSession(
        build_strategy(strategy_config),
        config,
        calendar=calendar,
        daily=timeline.daily,
        account=PAPER_ACCOUNT,
        instruments=instruments,
        journal=journal,
    )
    total = len(timeline)
    for i, (now, bars) in enumerate(Replay(replay_steps(frames), speed)):
        if i < warmup:
            session.warm_up(now, bars)
        else:
            session.on_bars(now, bars, final=i == total - 1)
        if on_step is not None:
            on_step(i + 1, total)
    paper = session.close()
    backtest = run_engine(
        strategy_config,
        frames,
        config,
        calendar=calendar,
        instruments=instruments,
        account=PAPER_ACCOUNT,
    )
    return PaperReplay(paper, backtest, parity_report(paper, backtest), total)
