"""An IbBroker in a process of its own that the restart spec SIGKILLs (test_ib_broker_faults.py).

It connects to the FakeTws at PORT with CLIENT_ID, submits one limit order under COID, prints
`accepted <broker order id> <highest order id>` once IB accepted it, then waits to be killed.
Run as `python -m tests.integration.brokers.ib_crash_child PORT CLIENT_ID COID`.
"""

from __future__ import annotations

import sys
import threading
from decimal import Decimal

from quant_brokers.ib.client import IbBroker
from quant_brokers.ib.settings import IbSettings
from quant_domain import Order, OrderSide, OrderType
from quant_domain.events import ExecutionReport, OrderAccepted


def main() -> None:
    port, client_id, coid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    accepted = threading.Event()
    broker_ids: list[str] = []

    def report(event: ExecutionReport) -> None:
        if isinstance(event, OrderAccepted):
            broker_ids.append(event.broker_order_id)
            accepted.set()

    broker = IbBroker(IbSettings(port=port, request_timeout=2.0), client_id=client_id)
    broker.set_report_handler(report)
    broker.connect(timeout=5)
    order = Order(
        symbol="AAPL",
        side=OrderSide.BUY,
        quantity=Decimal(4),
        type=OrderType.LIMIT,
        limit_price=Decimal(95),
        client_order_id=coid,
    )
    broker.submit(order)
    if not accepted.wait(5):
        raise SystemExit("not accepted within 5 s")
    print(f"accepted {broker_ids[0]} {broker.highest_order_id}", flush=True)
    threading.Event().wait()  # until SIGKILL


if __name__ == "__main__":
    main()
