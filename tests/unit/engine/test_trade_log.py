"""Open trades at the end of a run: marked at the last close, labelled open, kept apart."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from quant_domain import PositionSizing, SizingMode, TradeDirection, to_decimal
from quant_engine import BacktestConfig, BacktestEngine, EngineRun, build_timeline
from quant_engine.metrics import compute_metrics
from quant_strategy import build_strategy
from tests.factories import frame, random_walk, strategy_config

CLOSES = [100, 101, 102, 104, 103, 105]


def _run(script: dict[int, str], closes: list[float] = CLOSES) -> EngineRun:
    config = strategy_config(params={"script": script}, risk={"allow_short": True})
    bt = BacktestConfig(
        initial_capital=Decimal(10_000),
        commission_per_trade=Decimal("1.00"),
        slippage_bps=Decimal(10),
        sizing=PositionSizing(mode=SizingMode.FIXED, quantity=Decimal(10)),
    )
    timeline = build_timeline({"TEST": frame(closes)})
    return BacktestEngine(bt).run(build_strategy(config), timeline)


def test_trade_log_position_held_at_the_end_is_an_open_trade_marked_at_the_last_close() -> None:
    run = _run({2: "long"})
    (trade,) = run.trades
    assert trade.is_open
    assert (trade.exit_time, trade.exit_price) == (None, None)
    assert trade.mark_price == Decimal(105)
    # 10 x (105 - 102.102) unrealised, less the 1.00 paid to enter
    assert trade.gross_pnl == Decimal("28.98")
    assert trade.commission == Decimal("1.00")
    assert trade.pnl == Decimal("27.98")
    assert trade.bars_held == 3
    assert run.final_equity - Decimal(10_000) == trade.pnl


def test_trade_log_open_trade_after_a_flip_carries_its_share_of_the_flip_commission() -> None:
    run = _run({2: "long", 4: "short"})
    closed, opened = run.trades
    assert not closed.is_open
    assert closed.mark_price is None
    assert opened.is_open
    assert opened.direction is TradeDirection.SHORT
    assert opened.entry_price == Decimal("102.897")  # 103 x 0.999
    assert opened.mark_price == Decimal(105)
    assert opened.commission == Decimal("0.50")  # half of the flip's 1.00
    assert opened.gross_pnl == Decimal("-21.03")  # -10 x (105 - 102.897)
    assert opened.pnl == Decimal("-21.53")
    assert run.final_equity - Decimal(10_000) == closed.pnl + opened.pnl


def test_trade_log_marking_does_not_change_the_trade_the_log_keeps_open() -> None:
    config = strategy_config(params={"script": {2: "long"}})
    engine = BacktestEngine(BacktestConfig(initial_capital=Decimal(10_000)))
    run = engine.run(build_strategy(config), build_timeline({"TEST": frame(CLOSES)}))
    (reported,) = run.trades
    (kept,) = engine.trade_log.open_trades(
        len(CLOSES) - 1, engine.ledger.positions, {"TEST": Decimal(110)}
    )
    assert kept is not reported
    assert kept.mark_price == Decimal(110)
    assert reported.mark_price == Decimal(105)
    assert kept.commission == reported.commission


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_trade_log_every_trade_pnl_adds_up_to_the_change_in_equity_with_positions_open(
    seed: int,
) -> None:
    closes = random_walk(300, seed=seed)["close"].tolist()
    rng = np.random.default_rng(seed)
    words = ("long", "short", "flat")
    script = {int(i): words[int(rng.integers(3))] for i in rng.choice(290, 30, replace=False)}
    script[295] = "long"
    run = _run(script, closes)
    assert run.final_positions
    total = sum((t.pnl for t in run.trades), Decimal(0))
    # average-cost division carries 28 significant digits, so allow dust far below a cent
    assert abs(run.final_equity - Decimal(10_000) - total) < Decimal("1e-12")
    (last,) = [t for t in run.trades if t.is_open]
    assert last.mark_price == to_decimal(closes[-1])


def test_metrics_report_open_trades_apart_from_the_closed_trade_statistics() -> None:
    run = _run({2: "long"})
    equity = np.concatenate(([10_000.0], run.equity))
    m = compute_metrics(equity, periods_per_year=252, trades=run.trades)
    assert (m.num_trades, m.open_trades) == (0, 1)
    assert m.open_trade_pnl == pytest.approx(27.98)
    assert m.win_rate is None
    assert m.profit_factor is None
    assert m.as_dict()["win_rate"] is None
    assert m.as_dict()["open_trades"] == 1
