"""Accounting invariants at every bar, over random prices, strategies, costs and sizing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quant_domain import PositionSizing, SizingMode, to_decimal
from quant_engine import BacktestConfig, BacktestEngine, FillTiming, build_timeline
from quant_strategy import build_strategy
from tests.factories import frame, strategy_config

CENT = Decimal("0.01")


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=3, max_value=60))
    symbols = ["AAA", "BBB"][: draw(st.integers(1, 2))]
    frames = {}
    for symbol in symbols:
        steps = draw(st.lists(st.floats(-0.08, 0.08), min_size=n, max_size=n))
        closes = 50.0 * np.exp(np.cumsum(steps))
        gaps = draw(st.lists(st.floats(-0.03, 0.03), min_size=n, max_size=n))
        opens = closes * np.exp(gaps)
        frames[symbol] = frame(
            np.round(closes, 4).tolist(),
            opens=np.round(opens, 4).tolist(),
            highs=np.round(np.maximum(opens, closes) * 1.01, 4).tolist(),
            lows=np.round(np.minimum(opens, closes) * 0.99, 4).tolist(),
        )
    words = st.sampled_from(["long", "short", "flat"])
    script = draw(
        st.dictionaries(
            st.integers(0, n - 1), st.dictionaries(st.sampled_from(symbols), words), max_size=n
        )
    )
    mode = draw(st.sampled_from(list(SizingMode)))
    sizing = PositionSizing(
        mode=mode,
        fraction=draw(st.sampled_from([0.3, 0.5, 1.0, 2.0])),
        quantity=Decimal(draw(st.integers(1, 500))),
        fractional=draw(st.booleans()),
    )
    bt = BacktestConfig(
        initial_capital=Decimal(draw(st.integers(1_000, 1_000_000))),
        commission_per_trade=Decimal(draw(st.sampled_from(["0", "1.00", "4.95"]))),
        commission_bps=Decimal(draw(st.sampled_from(["0", "2.5", "10"]))),
        slippage_bps=Decimal(draw(st.sampled_from(["0", "5", "10", "50"]))),
        fill_timing=draw(st.sampled_from(list(FillTiming))),
        sizing=sizing,
        allow_margin=draw(st.booleans()),
    )
    config = strategy_config(
        universe=symbols,
        params={"symbol_script": script},
        risk={
            "allow_short": draw(st.booleans()),
            "max_position_pct": 2.0,
            "max_gross_exposure": 3.0,
        },
    )
    return {"frames": frames, "bt": bt, "config": config}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_money_adds_up_at_every_bar(scenario: dict[str, Any]) -> None:
    strategy = build_strategy(scenario["config"])
    timeline = build_timeline(scenario["frames"])
    bt: BacktestConfig = scenario["bt"]
    fills_so_far: dict[str, Decimal] = {}
    checked = []

    def observe(i: int, engine: BacktestEngine) -> None:
        ledger = engine.ledger
        # cash + marked positions = equity, exactly in Decimal, and the float curve to the cent
        exact = ledger.cash_dec + sum(
            (
                p.quantity * to_decimal(ledger.last[ledger.index[s]])
                for s, p in ledger.positions.items()
            ),
            Decimal(0),
        )
        assert abs(exact - ledger.equity_decimal()) < CENT
        assert abs(to_decimal(ledger.equity) - exact) < CENT
        # positions change only through fills
        for fill in engine.fills[len(checked) :]:
            fills_so_far[fill.symbol] = (
                fills_so_far.get(fill.symbol, Decimal(0)) + fill.signed_quantity
            )
            checked.append(fill)
        for symbol, position in ledger.positions.items():
            assert position.quantity == fills_so_far.get(symbol, Decimal(0))

    run = BacktestEngine(bt).run(strategy, timeline, observer=observe)

    assert all(f.commission >= 0 for f in run.fills)
    assert run.total_fees == sum((f.commission for f in run.fills), Decimal(0))
    cash = bt.initial_capital + sum((f.cash_change for f in run.fills), Decimal(0))
    assert cash == run.final_cash
    # every closed trade's fills exist, and trade PnL sums to realised PnL minus the fees it carried
    fill_ids = {f.fill_id for f in run.fills}
    for trade in run.trades:
        assert trade.fill_ids
        assert set(trade.fill_ids) <= fill_ids
        assert trade.commission >= 0
    assert sum((t.commission for t in run.trades), Decimal(0)) == run.total_fees
    if not run.final_positions:
        pnl = sum((t.pnl for t in run.trades), Decimal(0))
        # average-cost division carries 28 significant digits, so allow dust far below a cent
        assert abs(run.final_equity - bt.initial_capital - pnl) < Decimal("1e-12")
