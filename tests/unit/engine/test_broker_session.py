"""A session trading through an external LiveBroker (reports from the broker's own thread)
decides and fills as the paper session on the simulator does, applies every report on its own
thread, waits a bounded time for answers, and fails closed while the link is down."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from quant_domain import Bar, KillSwitchMode, Order, OrderStatus
from quant_domain.events import ExecutionReport
from quant_engine import BacktestConfig
from quant_engine.broker_session import BrokerSession
from quant_engine.paper import PaperSession
from quant_engine.reconciliation import ReconciliationState
from quant_marketdata.replay import replay_steps
from quant_strategy import StrategyConfig, build_strategy
from tests.factories import random_walk
from tests.fakes.loopback_broker import LoopbackBroker

SYMBOLS = ["AAA", "BBB", "CCC", "DDD", "EEE"]
FREE = BacktestConfig(commission_per_trade=Decimal(0), slippage_bps=Decimal(0))


def config() -> StrategyConfig:
    return StrategyConfig.model_validate(
        {
            "id": "sma_minutes",
            "class": "quant_strategy.builtin.momentum:SmaCrossover",
            "universe": SYMBOLS,
            "timeframe": "1m",
            "params": {"fast": 5, "slow": 20},
            "risk": {"max_position_pct": 0.2, "max_gross_exposure": 1.0},
        }
    )


def steps(n: int = 390) -> list[tuple[datetime, list[Bar]]]:
    frames = {}
    for k, symbol in enumerate(SYMBOLS):
        walk = random_walk(n, seed=k + 1, freq="1min")
        walk.index = pd.date_range("2024-03-05 14:30", periods=n, freq="1min", tz="UTC")
        frames[symbol] = walk
    return list(replay_steps(frames))


def live(broker: LoopbackBroker, **kw: Any) -> BrokerSession:
    broker.connect()
    return BrokerSession(build_strategy(config()), FREE, broker, calendar="XNYS", daily=False, **kw)


def feed(session: PaperSession, broker: LoopbackBroker | None, bars_by_step: Any) -> None:
    for now, bars in bars_by_step:
        if broker is not None:  # the exchange trades at the bar's close, as the simulator does
            for bar in bars:
                broker.set_price(bar.symbol, Decimal(str(bar.close)), now)
        session.on_bars(now, bars)


def orders(session: PaperSession) -> list[tuple[str, str, str, Decimal]]:
    return [
        (r.order.client_order_id, r.order.symbol, r.order.side.value, r.order.quantity)
        for r in session.loop.orders
    ]


def test_broker_session_on_a_threaded_broker_sends_the_simulators_orders_and_ends_level() -> None:
    data = steps()
    paper = PaperSession(build_strategy(config()), FREE, calendar="XNYS", daily=False)
    feed(paper, None, data)
    broker = LoopbackBroker(delay=0.0005)
    session = live(broker)
    session.reconcile_own_books()
    feed(session, broker, data)
    broker.close()
    assert len(orders(paper)) > 20
    assert orders(session) == orders(paper)
    assert session.positions() == {s: q for s, q in paper.broker.positions().items() if q}
    assert broker.positions() == session.positions()
    assert session.unsettled == []


class _ThreadJournal:
    """Records which thread stores each report."""

    def __init__(self) -> None:
        self.threads: set[int] = set()

    def pending(self, order: Order, at: datetime) -> None:
        del order, at

    def report(self, report: ExecutionReport) -> None:
        del report
        self.threads.add(threading.get_ident())


def test_broker_session_reports_from_the_adapters_thread_apply_on_the_sessions_thread() -> None:
    journal = _ThreadJournal()
    broker = LoopbackBroker()
    session = live(broker, journal=journal)
    session.reconcile_own_books()
    feed(session, broker, steps(120))
    broker.close()
    assert session.loop.fills  # reports did arrive
    assert journal.threads == {threading.get_ident()}


def test_broker_session_a_mute_broker_times_the_step_out_and_the_order_is_never_resent() -> None:
    broker = LoopbackBroker()
    session = live(broker, settle_s=0.2)
    session.reconcile_own_books()
    data = steps(120)
    broker.mute = True
    started = time.monotonic()
    feed(session, broker, data[:40])  # the first crossover decides within these
    took = time.monotonic() - started
    broker.mute = False
    broker.close()
    sent = [r for r in session.loop.orders if r.status is not OrderStatus.REJECTED]
    assert sent
    assert session.unsettled == [r.order.client_order_id for r in sent]
    assert took < 0.2 * len(sent) + 2  # bounded: each step waits at most settle_s
    assert all(r.status is OrderStatus.SUBMITTED for r in sent)  # left as it was


def test_broker_session_with_the_link_down_refuses_orders_and_reconciles_when_it_returns() -> None:
    broker = LoopbackBroker()
    session = live(broker)
    session.reconcile_own_books()
    data = steps(200)
    broker.drop_link()
    time.sleep(0.05)
    feed(session, broker, data[:60])
    down = list(session.loop.orders)
    assert down
    assert all(r.code == "RECONCILIATION_PENDING" for r in down)
    assert broker.submitted == []  # nothing left while the link was down
    broker.restore_link()
    time.sleep(0.05)
    feed(session, broker, data[60:])
    broker.close()
    assert session.reconnects == 1
    check = session.loop.reconciliation
    assert check is not None
    assert check.state is ReconciliationState.CLEAN
    assert broker.submitted  # trading resumed after the reconciliation
    assert broker.positions() == session.positions()


def test_broker_session_flatten_and_halt_closes_at_the_broker_and_sends_nothing_more() -> None:
    broker = LoopbackBroker()
    session = live(broker)
    session.reconcile_own_books()
    data = steps(200)
    feed(session, broker, data[:120])
    assert session.positions()  # something is held
    session.set_mode(KillSwitchMode.FLATTEN_AND_HALT)
    sent = len(broker.submitted)
    feed(session, broker, data[120:])
    broker.close()
    assert session.positions() == {}
    assert broker.positions() == {}
    assert len(broker.submitted) == sent  # halted: nothing after the flatten


def test_broker_session_an_unanswered_closing_order_is_not_doubled_by_the_next_step() -> None:
    broker = LoopbackBroker()
    session = live(broker, settle_s=0.05)
    session.reconcile_own_books()
    data = steps(200)
    feed(session, broker, data[:120])
    held = dict(session.positions())
    assert held
    broker.mute = True  # the closing orders get no answer
    session.set_mode(KillSwitchMode.FLATTEN_AND_HALT)
    closing = [r for r in session.loop.orders if r.status is OrderStatus.SUBMITTED]
    feed(session, broker, data[120:130])  # each step would flatten again while held
    assert [r for r in session.loop.orders if r.status is OrderStatus.SUBMITTED] == closing
    assert len(closing) == len(held)
    broker.mute = False
    session.settle(closing)
    broker.close()
    assert broker.positions() == {}
