"""Order acknowledgement times: from handing an order to the broker to its first report."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd

from quant_domain import Fill, OrderSide
from quant_domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
)
from quant_engine import BacktestConfig
from quant_engine.order_acks import AckTimes
from quant_engine.paper import PaperSession
from quant_marketdata.replay import replay_steps
from quant_strategy import StrategyConfig, build_strategy
from tests.factories import random_walk

NOW = datetime(2026, 12, 7, 15, tzinfo=UTC)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_ack_times_first_report_ends_the_wait_and_later_ones_are_ignored() -> None:
    clock = Clock()
    acks = AckTimes(clock)
    acks.sent("a")
    clock.t += 0.25
    acks.reported(OrderAccepted("a", "b-1", NOW))
    clock.t += 1.0
    acks.reported(OrderCancelled("a", NOW, "later"))  # the second report of "a"
    acks.reported(OrderAccepted("never-sent", "b-2", NOW))
    assert acks.take() == [0.25]
    assert acks.take() == []
    assert acks.waiting == 0


def test_ack_times_a_fill_or_a_broker_rejection_first_is_the_answer() -> None:
    clock = Clock()
    acks = AckTimes(clock)
    acks.sent("f")
    acks.sent("r")
    clock.t += 0.5
    fill = Fill("x-1", "f", "AAA", OrderSide.BUY, Decimal(1), Decimal(10), Decimal(0), NOW)
    acks.reported(OrderFilled(fill, "b-1"))
    clock.t += 0.5
    acks.reported(OrderRejected("r", NOW, "no", "BROKER_REJECTED"))
    assert acks.take() == [0.5, 1.0]


def test_ack_times_unknown_status_keeps_waiting_and_a_down_link_measures_nothing() -> None:
    clock = Clock()
    acks = AckTimes(clock)
    acks.sent("u")
    acks.sent("d")
    clock.t += 2.0
    acks.reported(OrderStatusUnknown("u", NOW, "timeout"))
    acks.reported(OrderRejected("d", NOW, "link down", "BROKER_UNAVAILABLE"))
    assert acks.take() == []
    assert acks.waiting == 1  # "u" until the lookup finds it
    clock.t += 1.0
    acks.reported(OrderAccepted("u", "b-1", NOW))
    assert acks.take() == [3.0]


def test_ack_times_repeated_submit_keeps_the_first_instant_and_the_wait_is_bounded() -> None:
    clock = Clock()
    acks = AckTimes(clock, keep=2)
    acks.sent("a")
    clock.t += 1.0
    acks.sent("a")
    acks.sent("b")
    acks.sent("c")  # "a" is dropped: at most two wait
    assert acks.waiting == 2
    acks.reported(OrderAccepted("a", "b-1", NOW))
    acks.reported(OrderAccepted("b", "b-2", NOW))
    assert acks.take() == [0.0]


def test_paper_session_times_every_order_it_sends_to_the_simulator() -> None:
    config = StrategyConfig.model_validate(
        {
            "id": "sma_acks",
            "class": "quant_strategy.builtin.momentum:SmaCrossover",
            "universe": ["AAA", "BBB"],
            "timeframe": "1m",
            "params": {"fast": 3, "slow": 8},
        }
    )
    frames = {}
    for k, symbol in enumerate(config.universe):
        walk = random_walk(120, seed=k + 3, freq="1min")
        walk.index = pd.date_range("2024-03-05 14:30", periods=120, freq="1min", tz="UTC")
        frames[symbol] = walk
    session = PaperSession(build_strategy(config), BacktestConfig(), calendar="XNYS", daily=False)
    for now, bars in replay_steps(frames):
        session.on_bars(now, bars)
    sent = [r for r in session.loop.orders if r.code in ("", "BROKER_REJECTED")]
    taken = session.acks.take()
    assert sent, "the strategy traded"
    assert len(taken) == len(sent)
    assert all(0.0 <= seconds < 1.0 for seconds in taken)
    assert session.broker_name == "sim"
