"""An AlpacaBroker in a process of its own that SIGKILLs itself once its order is accepted.

Run as `python -m tests.integration.brokers.alpaca_crash_child URL STREAM_URL CLIENT_ORDER_ID`
(test_alpaca_broker.py's restart spec): no close, no goodbye, as after a crash.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from decimal import Decimal

from quant_brokers.alpaca import AlpacaBroker, AlpacaBrokerSettings
from quant_domain import Order, OrderSide, OrderType
from quant_domain.events import ExecutionReport, OrderAccepted
from tests.fakes.alpaca_broker import KEY_ID, SECRET_KEY
from tests.integration.brokers.alpaca_harness import FAST


def main(url: str, stream_url: str, client_order_id: str) -> None:
    accepted = threading.Event()

    def on_report(report: ExecutionReport) -> None:
        if isinstance(report, OrderAccepted):
            accepted.set()

    settings = AlpacaBrokerSettings(
        api_key_id=KEY_ID, api_secret_key=SECRET_KEY, trading_url=url, stream_url=stream_url
    )
    broker = AlpacaBroker(settings, FAST)
    broker.set_report_handler(on_report)
    broker.connect(timeout=5)
    order = Order(
        symbol="AAPL",
        side=OrderSide.BUY,
        quantity=Decimal(7),
        type=OrderType.LIMIT,
        limit_price=Decimal(90),
        client_order_id=client_order_id,
    )
    broker.submit(order)
    if accepted.wait(5):
        os.kill(os.getpid(), signal.SIGKILL)
    sys.exit(3)


if __name__ == "__main__":
    main(*sys.argv[1:4])
