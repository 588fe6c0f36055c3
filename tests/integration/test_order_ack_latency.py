"""quant_order_ack_latency_seconds is observed once per order the execution path sends: on the
simulated broker and through alpaca-py against the local Alpaca server (the real adapter, its
REST submit and its trade_updates stream). Histograms are process-wide: the test reads deltas."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import pandas as pd
from prometheus_client import REGISTRY

from quant_brokers.alpaca import AlpacaBroker
from quant_domain import Bar
from quant_engine import BacktestConfig
from quant_engine.broker_session import BrokerSession
from quant_engine.paper import PaperSession
from quant_execution.step_metrics import StepMetrics
from quant_strategy import StrategyConfig, build_strategy
from tests.fakes.alpaca_broker import FakeAlpacaBroker
from tests.integration.brokers.alpaca_harness import FAST, settings_for

FREE = BacktestConfig(commission_per_trade=Decimal(0), slippage_bps=Decimal(0))
STEPS = 6
RUN = uuid.uuid4()


def flip() -> StrategyConfig:
    """Long, then flat, in turn: one market order per step."""
    return StrategyConfig.model_validate(
        {
            "id": "ack-flip",
            "class": "tests.integration.monitoring.order_path:Flip",
            "universe": ["AAPL"],
            "timeframe": "1m",
        }
    )


def bars() -> list[tuple[datetime, list[Bar]]]:
    index = pd.date_range("2024-03-05 14:31", periods=STEPS, freq="1min", tz="UTC")
    return [
        (stamp, [Bar("AAPL", stamp, 100.0, 100.5, 99.5, 100.0 + n, 1_000.0)])
        for n, stamp in enumerate(index.to_pydatetime())
    ]


def histogram(broker: str) -> tuple[float, float]:
    labels = {"broker": broker}
    count = REGISTRY.get_sample_value("quant_order_ack_latency_seconds_count", labels)
    total = REGISTRY.get_sample_value("quant_order_ack_latency_seconds_sum", labels)
    return count or 0.0, total or 0.0


def sent(session: PaperSession) -> int:
    return sum(1 for r in session.loop.orders if r.code in ("", "BROKER_REJECTED"))


def test_ack_latency_on_the_simulated_broker_counts_every_order_sent() -> None:
    metrics = StepMetrics()
    session = PaperSession(build_strategy(flip()), FREE, calendar="XNYS", daily=False)
    before = histogram("sim")
    for now, step in bars():
        session.on_bars(now, step)
        metrics.observe("ack-flip", RUN, session)
    count, total = histogram("sim")
    assert sent(session) == STEPS
    assert count - before[0] == STEPS
    assert 0.0 <= total - before[1] < 1.0  # the simulator answers inside submit


def test_ack_latency_through_alpaca_is_the_round_trip_to_the_local_server() -> None:
    metrics = StepMetrics()
    with FakeAlpacaBroker() as fake:
        broker = AlpacaBroker(settings_for(fake), FAST)
        broker.connect(timeout=5)
        try:
            session = BrokerSession(
                build_strategy(flip()), FREE, broker, calendar="XNYS", daily=False
            )
            session.reconcile_own_books()
            before = histogram("alpaca")
            for now, step in bars():
                fake.set_price("AAPL", Decimal(str(step[0].close)))
                session.on_bars(now, step)
                metrics.observe("ack-flip", RUN, session)
        finally:
            broker.close()
    count, total = histogram("alpaca")
    assert session.unsettled == []
    assert sent(session) == STEPS
    assert count - before[0] == STEPS
    assert total - before[1] > 0.0  # HTTP and a websocket frame each way take time
    assert session.acks.waiting == 0
