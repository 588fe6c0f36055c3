"""A paper session fed one step at a time trades exactly as a backtest over the same bars."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from quant_domain import (
    Bar,
    KillSwitchMode,
    MarketState,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    PortfolioView,
    Signal,
    SignalDirection,
    TimeInForce,
)
from quant_engine import BacktestConfig, BacktestEngine, EngineRun, FillTiming, build_timeline
from quant_engine.paper import PaperSession, equal_runs
from quant_marketdata import SampleSource, SyntheticSource
from quant_marketdata.replay import replay_steps
from quant_strategy import (
    Strategy,
    StrategyConfig,
    StrategyParams,
    build_strategy,
    load_strategy_config,
)

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"


def _both(
    config: StrategyConfig,
    frames: dict[str, pd.DataFrame],
    bt: BacktestConfig,
    calendar: str | None,
    warmup: int = 0,
) -> tuple[EngineRun, EngineRun]:
    timeline = build_timeline(frames, calendar)
    backtest = BacktestEngine(bt).run(
        build_strategy(config), timeline, trade_from=warmup, account="paper-1"
    )
    paper = PaperSession(
        build_strategy(config), bt, calendar=calendar, daily=timeline.daily, account="paper-1"
    )
    steps = list(replay_steps(frames))  # what the data service publishes, step by step
    for now, bars in steps[:warmup]:
        paper.warm_up(now, bars)
    for j, (now, bars) in enumerate(steps[warmup:], start=warmup):
        paper.on_bars(now, bars, final=j == len(steps) - 1)
    return backtest, paper.close()


def _sample(symbols: list[str], start: str, end: str) -> dict[str, pd.DataFrame]:
    source = SampleSource()
    return {s: source.get_bars(s).loc[start:end] for s in symbols}  # type: ignore[misc]


def test_momentum_on_five_years_of_the_sp500_sample_trades_identically() -> None:
    frames = _sample(["SP500"], "2014-01-01", "2018-12-31")
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(
        universe=["SP500"], benchmark=None, start=None, end=None
    )
    backtest, paper = _both(config, frames, BacktestConfig(), "XNYS", warmup=60)
    assert len(backtest.fills) > 10
    assert equal_runs(backtest, paper) == []


@pytest.mark.parametrize("timing", [FillTiming.CLOSE, FillTiming.NEXT_OPEN])
def test_a_five_symbol_daily_book_with_shorts_trades_identically(timing: FillTiming) -> None:
    source = SyntheticSource(seed=3, n_symbols=5, n_bars=800)
    symbols = [f"SYN00{k}" for k in range(5)]
    frames = {s: source.get_bars(s) for s in symbols}
    frames["SYN004"] = frames["SYN004"].iloc[::2]  # a symbol that misses every other step
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(
        universe=symbols, benchmark=None, start=None, end=None
    )
    config = config.updated(risk=config.risk.model_copy(update={"allow_short": True}))
    bt = BacktestConfig(fill_timing=timing, commission_bps=Decimal(2), liquidate_at_end=True)
    backtest, paper = _both(config, frames, bt, None)
    assert len(backtest.fills) > 50
    assert equal_runs(backtest, paper) == []


class _DayLimits(Strategy[StrategyParams]):
    """Every third bar: a DAY buy limit 0.3 % under the close when flat, else a DAY sell limit
    0.3 % over it, so orders fill, rest, and expire at their session's close."""

    def on_start(self) -> None:
        self.count = 0
        self.last = 0.0

    def on_market_data(self, bar: Bar) -> None:
        self.count += 1
        self.last = bar.close

    def generate_signals(self, state: MarketState) -> list[Signal]:
        if self.count % 3:
            return []
        return [Signal("SYN000", SignalDirection.LONG, state.timestamp)]

    def risk_check(self, signals: list[Signal], portfolio: PortfolioView) -> list[Order]:
        del signals
        held = portfolio.position("SYN000")
        side = OrderSide.SELL if held > 0 else OrderSide.BUY
        factor = 1.003 if held > 0 else 0.997
        return [
            Order(
                "SYN000",
                side,
                Decimal(int(held)) if held > 0 else Decimal(10),
                type=OrderType.LIMIT,
                limit_price=Decimal(str(round(self.last * factor, 2))),
                time_in_force=TimeInForce.DAY,
            )
        ]


def test_intraday_bars_on_xnys_with_day_orders_expiring_at_the_close_trade_identically() -> None:
    # hourly bars 14:30-20:30 UTC on weekdays across the DST change of 2024-03-10: after it the
    # 20:30 bar falls after the close (it joins the next session, and the market is closed then)
    index = pd.date_range("2024-02-20 14:30", periods=24 * 40, freq="h", tz="UTC")
    index = index[(index.hour >= 14) & (index.hour <= 20) & (index.day_of_week < 5)]
    bars = SyntheticSource(seed=9, n_symbols=1, n_bars=len(index)).get_bars("SYN000")
    frame = bars.set_axis(index, axis=0)
    strategy_class = f"{__name__}:_DayLimits"
    config = StrategyConfig.model_validate(
        {"id": "day_limits", "class": strategy_class, "universe": ["SYN000"]}
    )
    bt = BacktestConfig(fill_timing=FillTiming.NEXT_OPEN)
    backtest, paper = _both(config, {"SYN000": frame}, bt, "XNYS")
    statuses = {r.status for r in backtest.orders}
    assert {OrderStatus.FILLED, OrderStatus.EXPIRED} <= statuses
    assert any(r.code == "MARKET_CLOSED" for r in backtest.orders)
    assert equal_runs(backtest, paper) == []


def _paper_momentum(**risk: Any) -> tuple[PaperSession, list[tuple[datetime, list[Bar]]]]:
    frames = _sample(["SP500"], "2016-01-01", "2018-12-31")
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(
        universe=["SP500"], benchmark=None, start=None, end=None
    )
    paper = PaperSession(build_strategy(config), BacktestConfig(), calendar="XNYS")
    return paper, list(replay_steps(frames))


def test_halt_entries_in_a_paper_session_refuses_entries_from_the_next_order_on() -> None:
    paper, steps = _paper_momentum()
    for now, bars in steps[:300]:
        paper.on_bars(now, bars)
    paper.set_mode(KillSwitchMode.HALT_ENTRIES)
    for now, bars in steps[300:]:
        paper.on_bars(now, bars)
    run = paper.close()
    late = [r for r in run.orders if r.submitted_at >= steps[300][0]]
    assert late
    for record in late:
        grows = record.order.side.value == "buy"  # momentum_v1 is long only
        assert (record.status is OrderStatus.REJECTED) == grows
        if grows:
            assert record.code == "HALT_ENTRIES"


def test_flatten_and_halt_in_a_paper_session_leaves_no_position_and_sends_nothing_more() -> None:
    paper, steps = _paper_momentum()
    for now, bars in steps:
        paper.on_bars(now, bars)
        if paper.ledger.held:
            break
    paper.set_mode(KillSwitchMode.FLATTEN_AND_HALT)
    assert not paper.ledger.held
    for now, bars in steps[len(paper.timeline) :][:200]:
        paper.on_bars(now, bars)
    run = paper.close()
    assert run.final_positions == {}
    flattened = [r for r in run.orders if r.order.reason == "kill switch: flatten_and_halt"]
    assert [r.status for r in flattened] == [OrderStatus.FILLED]
    after = run.orders[run.orders.index(flattened[0]) + 1 :]
    assert all(r.code == "FLATTEN_AND_HALT" for r in after)


def test_a_bar_from_the_past_or_outside_the_universe_is_refused_and_changes_nothing() -> None:
    paper, steps = _paper_momentum()
    for now, bars in steps[:5]:
        paper.on_bars(now, bars)
    before = (len(paper.timeline), list(paper.timeline.session_closes))
    with pytest.raises(ValueError, match="must move forward"):
        paper.on_bars(steps[2][0], steps[2][1])
    stranger = Bar("NOPE", steps[5][0], 1.0, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="not in the strategy's universe"):
        paper.on_bars(steps[5][0], [stranger])
    assert (len(paper.timeline), list(paper.timeline.session_closes)) == before
