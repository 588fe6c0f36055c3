"""Paper and live write each order down before the broker sees it, and send nothing they could not."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from quant_domain import Order, OrderStatus
from quant_domain.events import ExecutionReport, OrderAccepted, OrderFilled
from quant_engine import BacktestConfig
from quant_engine.paper import PaperSession
from quant_marketdata import SampleSource
from quant_marketdata.replay import replay_steps
from quant_strategy import build_strategy, load_strategy_config

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "strategies" / "momentum_v1.yaml"


class _Journal:
    """A journal that keeps what it was told in order, and can be made to fail."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []
        self.down = False

    def pending(self, order: Order, at: datetime) -> None:
        del at
        if self.down:
            raise ConnectionError("database unreachable")
        self.entries.append(("pending", order.client_order_id))

    def report(self, report: ExecutionReport) -> None:
        if isinstance(report, OrderFilled):
            self.entries.append(("filled", report.fill.client_order_id))
        elif isinstance(report, OrderAccepted):
            self.entries.append(("accepted", report.client_order_id))


def _session(journal: _Journal) -> tuple[PaperSession, list[tuple[datetime, list]]]:  # type: ignore[type-arg]
    frames = {"SP500": SampleSource().get_bars("SP500").loc["2015-01-01":"2017-12-31"]}  # type: ignore[misc]
    config = load_strategy_config(CONFIG).updated(
        universe=["SP500"], benchmark=None, start=None, end=None
    )
    session = PaperSession(
        build_strategy(config), BacktestConfig(), calendar="XNYS", journal=journal
    )
    return session, list(replay_steps(frames))


def test_every_order_is_written_down_before_any_report_of_it_arrives() -> None:
    journal = _Journal()
    session, steps = _session(journal)
    for now, bars in steps:
        session.on_bars(now, bars)
    run = session.close()
    assert run.orders
    for record in run.orders:
        cid = record.order.client_order_id
        mine = [kind for kind, key in journal.entries if key == cid]
        assert mine[0] == "pending", cid
        assert "filled" in mine[1:]


def test_an_order_that_cannot_be_written_is_refused_and_never_reaches_the_broker() -> None:
    journal = _Journal()
    session, steps = _session(journal)
    journal.down = True
    for now, bars in steps:
        session.on_bars(now, bars)
        if session.loop.orders:
            break
    (refused,) = session.loop.orders
    assert (refused.status, refused.code) == (OrderStatus.REJECTED, "JOURNAL_UNAVAILABLE")
    assert "database unreachable" in refused.reason
    assert session.loop.fills == []
    assert session.broker.open_orders() == []
    assert session.loop.gate.pending(0) == 0.0  # the refused order is not counted as pending
    journal.down = False  # the database is back: the next order goes through
    for now, bars in steps[len(session.timeline) :]:
        session.on_bars(now, bars)
    assert any(r.status is OrderStatus.FILLED for r in session.loop.orders)
