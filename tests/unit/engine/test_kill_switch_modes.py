"""Each kill-switch mode on a backtest with a schedule: what passes, what is rejected and why."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

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
from quant_engine import BacktestConfig, BacktestEngine, EngineRun, build_timeline
from quant_strategy import Strategy, StrategyParams, build_strategy
from tests.factories import frame, strategy_config

CLOSES = [100.0, 101, 102, 103, 104, 105, 106, 107]
NO_COSTS = BacktestConfig(slippage_bps=Decimal(0), commission_per_trade=Decimal(0))


def _timeline() -> Any:
    return build_timeline({"TEST": frame(CLOSES)})


def _at(step: int) -> datetime:
    return _timeline().times[step]


def _scripted(script: dict[int, str], schedule: list[tuple[int, KillSwitchMode]]) -> EngineRun:
    strategy = build_strategy(strategy_config(params={"script": script}))
    changes = [(_at(step), mode) for step, mode in schedule]
    return BacktestEngine(NO_COSTS).run(strategy, _timeline(), kill_switch=changes)


def _summary(run: EngineRun) -> list[tuple[str, str, str]]:
    return [(r.order.side.value, r.status.value, r.code) for r in run.orders]


def test_active_lets_every_order_through() -> None:
    run = _scripted({0: "long", 3: "flat", 5: "long"}, [])
    assert _summary(run) == [("buy", "filled", ""), ("sell", "filled", ""), ("buy", "filled", "")]


def test_halt_entries_rejects_new_entries_and_lets_reductions_through() -> None:
    run = _scripted({0: "long", 3: "flat", 5: "long"}, [(2, KillSwitchMode.HALT_ENTRIES)])
    assert _summary(run) == [
        ("buy", "filled", ""),
        ("sell", "filled", ""),  # closing the position is a reduction: it passes
        ("buy", "rejected", "HALT_ENTRIES"),
    ]
    rejected = run.orders[-1]
    assert "halt_entries" in rejected.reason
    assert run.final_positions == {}


def test_reduce_only_rejects_entries_with_its_own_reason() -> None:
    run = _scripted({0: "long", 3: "flat", 5: "long"}, [(1, KillSwitchMode.REDUCE_ONLY)])
    assert _summary(run)[-1] == ("buy", "rejected", "REDUCE_ONLY")
    assert _summary(run)[1] == ("sell", "filled", "")


def test_releasing_the_kill_switch_lets_entries_through_again() -> None:
    run = _scripted(
        {1: "long", 3: "flat", 5: "long"},
        [(0, KillSwitchMode.HALT_ENTRIES), (4, KillSwitchMode.ACTIVE)],
    )
    assert _summary(run) == [("buy", "rejected", "HALT_ENTRIES"), ("buy", "filled", "")]


def test_flatten_and_halt_closes_positions_at_once_then_rejects_everything() -> None:
    run = _scripted({0: "long", 5: "long"}, [(2, KillSwitchMode.FLATTEN_AND_HALT)])
    buy, flatten, rejected = run.orders
    assert buy.status is OrderStatus.FILLED
    assert flatten.order.side is OrderSide.SELL
    assert flatten.status is OrderStatus.FILLED
    assert flatten.order.reason == "kill switch: flatten_and_halt"
    assert flatten.submitted_at == _at(2)
    assert (rejected.status, rejected.code) == (OrderStatus.REJECTED, "FLATTEN_AND_HALT")
    assert run.final_positions == {}


class _RestingBid(Strategy[StrategyParams]):
    """Buys 10 at the first close, then rests a GTC buy limit far below the market."""

    def on_start(self) -> None:
        self.step = -1

    def on_market_data(self, bar: Bar) -> None:
        del bar

    def generate_signals(self, state: MarketState) -> list[Signal]:
        self.step += 1
        if self.step in (0, 1):
            return [Signal("TEST", SignalDirection.LONG, state.timestamp)]
        return []

    def risk_check(self, signals: list[Signal], portfolio: PortfolioView) -> list[Order]:
        del signals, portfolio
        if self.step == 0:
            return [Order("TEST", OrderSide.BUY, Decimal(10))]
        return [
            Order(
                "TEST",
                OrderSide.BUY,
                Decimal(5),
                type=OrderType.LIMIT,
                limit_price=Decimal(50),
                time_in_force=TimeInForce.GTC,
            )
        ]


def test_flatten_and_halt_cancels_working_orders_and_leaves_no_position() -> None:
    strategy = _RestingBid()
    strategy.initialize(strategy_config())
    run = BacktestEngine(NO_COSTS).run(
        strategy, _timeline(), kill_switch=[(_at(3), KillSwitchMode.FLATTEN_AND_HALT)]
    )
    entry, resting, flatten = run.orders
    assert entry.status is OrderStatus.FILLED
    assert (resting.status, resting.reason) == (
        OrderStatus.CANCELLED,
        "kill switch: flatten_and_halt",
    )
    assert resting.closed_at == _at(3)
    assert (flatten.order.side, flatten.status) == (OrderSide.SELL, OrderStatus.FILLED)
    assert run.final_positions == {}
    assert all(record.status.is_final for record in run.orders)
