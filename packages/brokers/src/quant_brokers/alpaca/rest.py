"""The adapter's timings and alpaca-py TradingClients built with them (timeouts, SDK retries)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.models import Order, Position, TradeAccount
from alpaca.trading.requests import GetOrdersRequest, OrderRequest
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from quant_brokers.alpaca.settings import AlpacaBrokerSettings


@dataclass(frozen=True, slots=True)
class AlpacaTimings:
    """Seconds and counts the adapter waits by; tests shorten them, production keeps these.

    `sdk_retries` / `sdk_retry_wait` are alpaca-py's own retries of a 429 or 504 (POST
    included: safe because every order carries its client order id, so a retried submit that
    already went through comes back as 422 "client_order_id must be unique" and is looked up).
    """

    request_timeout: float = 10.0
    sdk_retries: int = 3
    sdk_retry_wait: float = 3.0
    open_timeout: float = 10.0
    reconnect_base: float = 1.0
    reconnect_cap: float = 30.0
    lookup_interval: float = 2.0
    not_found_window: float = 10.0
    echo_timeout: float = 10.0


class _TimeoutAdapter(HTTPAdapter):
    """requests has no session-wide timeout and alpaca-py passes none: a hung socket would
    hold the adapter's REST thread forever."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        chosen = self._timeout if timeout is None else timeout
        return super().send(request, stream, chosen, verify, cert, proxies)


class AlpacaRest:
    """The few TradingClient calls the adapter makes, typed (the SDK returns model or raw dict).

    Built with our timeout and retry schedule. The retry fields are private to alpaca-py's
    RESTClient (TradingClient does not pass them on);
    tests/integration/brokers/test_alpaca_fake_contract.py checks they still exist.
    """

    __slots__ = ("_client",)

    def __init__(
        self, key_id: str, secret_key: str, settings: AlpacaBrokerSettings, timings: AlpacaTimings
    ) -> None:
        client = TradingClient(
            key_id, secret_key, paper=settings.paper, url_override=settings.trading_url
        )
        client._retry = timings.sdk_retries
        client._retry_wait = timings.sdk_retry_wait  # type: ignore[assignment]  # float sleeps fine
        adapter = _TimeoutAdapter(timings.request_timeout)
        client._session.mount("http://", adapter)
        client._session.mount("https://", adapter)
        self._client = client

    def __repr__(self) -> str:
        return "AlpacaRest()"

    def submit(self, request: OrderRequest) -> Order:
        return _model(self._client.submit_order(request), Order)

    def order(self, client_order_id: str) -> Order:
        return _model(self._client.get_order_by_client_id(client_order_id), Order)

    def cancel(self, order_id: str) -> None:
        self._client.cancel_order_by_id(order_id)

    def open_orders(self) -> list[Order]:
        request = GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500)
        return [_model(o, Order) for o in _listed(self._client.get_orders(request))]

    def positions(self) -> list[Position]:
        return [_model(p, Position) for p in _listed(self._client.get_all_positions())]

    def account(self) -> TradeAccount:
        return _model(self._client.get_account(), TradeAccount)


M = TypeVar("M")


def _model(value: object, kind: type[M]) -> M:
    if not isinstance(value, kind):
        raise TypeError(f"alpaca-py returned {type(value).__name__}, expected {kind.__name__}")
    return value


def _listed(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"alpaca-py returned {type(value).__name__}, expected a list")
    return value
