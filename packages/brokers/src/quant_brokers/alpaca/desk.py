"""OrderDesk: the adapter's order bookkeeping, turning what Alpaca says into execution reports.

Everything here runs on the adapter's io thread (one event loop), so the bookkeeping needs no
lock and the reports for an order leave in the order the facts arrived. REST calls go through
`call`, which runs them on the adapter's REST thread and awaits the answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from alpaca.common.exceptions import APIError
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.models import TradeUpdate

from quant_brokers.alpaca import mapping
from quant_brokers.alpaca.rest import AlpacaRest, AlpacaTimings
from quant_domain import Order
from quant_domain.events import ExecutionReport, OrderRejected, OrderStatusUnknown

log = logging.getLogger(__name__)
T = TypeVar("T")
Call = Callable[..., Awaitable[Any]]


@dataclass(slots=True)
class Doubt:
    """When to look an order up next, and how often and since when Alpaca did not know it."""

    next_at: float
    misses: int = 0
    first_miss: float | None = None

    def not_found(self, now: float, window: float) -> bool:
        """Count a "no such order"; True once two of them lie `window` seconds apart."""
        self.misses += 1
        if self.first_miss is None:
            self.first_miss = now
        return self.misses >= 2 and now - self.first_miss >= window


class OrderDesk:
    """Orders this adapter placed or adopted, what the loop was told about each, and the
    orders in doubt (an ambiguous submit) waiting for a lookup by client order id."""

    def __init__(
        self,
        rest: AlpacaRest,
        call: Call,
        deliver: Callable[[list[ExecutionReport]], None],
        timings: AlpacaTimings,
        endpoint: str,
    ) -> None:
        self._rest = rest
        self._call = call
        self._deliver = deliver
        self._timings = timings
        self._endpoint = endpoint
        self._progress: dict[str, mapping.OrderProgress] = {}
        self._doubts: dict[str, Doubt] = {}
        self._echo_due: dict[str, float] = {}
        self._heard: set[str] = set()

    async def submit(self, order: Order) -> None:
        """Send `order` once; an ambiguous answer puts it in doubt, never sends it again."""
        cid = order.client_order_id
        if cid in self._progress:
            log.warning("alpaca: order %s was submitted already; not sending it again", cid)
            return
        progress = self._progress[cid] = mapping.OrderProgress(cid, order.strategy_id)
        try:
            snapshot = await self._call(self._rest.submit, mapping.order_request(order))
        except Exception as exc:
            if progress.accepted or progress.final:
                return  # the stream told us about the order while the answer went astray
            now = datetime.now(UTC)
            if mapping.is_ambiguous(exc):
                self._doubts[cid] = Doubt(next_at=time.monotonic())
                reason = f"ambiguous answer to the submission: {self.describe(exc)}"
                self._deliver([OrderStatusUnknown(cid, now, reason)])
            else:
                progress.final = True
                reason = f"Alpaca refused the order: {self.describe(exc)}"
                self._deliver([OrderRejected(cid, now, reason, "BROKER_REJECTED")])
            return
        self._deliver(mapping.acceptance(progress, snapshot, datetime.now(UTC)))
        if not progress.final and cid not in self._heard:
            self._echo_due[cid] = time.monotonic() + self._timings.echo_timeout

    async def cancel(self, cid: str, reason: str) -> None:
        progress = self._progress.get(cid)
        if progress is not None:
            progress.cancel_reason = reason or "cancel requested"
        try:
            order_id = progress.broker_order_id if progress is not None else ""
            if not order_id:
                order_id = str((await self._call(self._rest.order, cid)).id)
            await self._call(self._rest.cancel, order_id)
        except Exception as exc:
            log.warning("alpaca: cancel of %s failed: %s", cid, self.describe(exc))

    def on_update(self, update: TradeUpdate) -> None:
        """One trade update from the stream."""
        cid = update.order.client_order_id
        self._heard.add(cid)
        self._echo_due.pop(cid, None)
        progress = self._progress.get(cid)
        if progress is None:
            log.warning("alpaca: trade update for %s, an order this session did not place", cid)
            return
        execution = None
        if update.qty is not None and update.price is not None:
            qty, price = mapping.decimal(update.qty), mapping.decimal(update.price)
            execution = (qty, price, str(update.execution_id or ""))
        self._apply(progress, update.order, execution, update.timestamp)

    def _apply(
        self,
        progress: mapping.OrderProgress,
        snapshot: AlpacaOrder,
        execution: tuple[Decimal, Decimal, str] | None = None,
        at: datetime | None = None,
    ) -> None:
        self._doubts.pop(progress.client_order_id, None)
        self._deliver(mapping.reports(progress, snapshot, at or datetime.now(UTC), execution))

    async def recover(self) -> None:
        """Read every unfinished order's state over REST: fills missed while the stream was
        down are reported now (fill ids follow the cumulative quantity, so none repeats)."""
        self._echo_due.clear()
        for cid, progress in list(self._progress.items()):
            if progress.final or cid in self._doubts:
                continue  # orders in doubt are `resolve_due`'s
            try:
                snapshot = await self._call(self._rest.order, cid)
            except APIError as exc:
                if exc.status_code != 404:
                    raise
                log.warning("alpaca: order %s accepted earlier is unknown to Alpaca now", cid)
                continue
            self._apply(progress, snapshot)

    def adopt(self, snapshots: list[AlpacaOrder]) -> None:
        """Watch working orders found at Alpaca (placed before a restart) from now on."""
        for snapshot in snapshots:
            cid = snapshot.client_order_id
            if cid not in self._progress:
                self._progress[cid] = mapping.progress_of(snapshot)
                # the listing may predate an update this loop already dropped: read it again
                self._doubts[cid] = Doubt(next_at=time.monotonic())

    def follow(self, cid: str, filled: Decimal, notional: Decimal) -> None:
        """Look up an order an earlier process placed (a restart): what Alpaca holds of it
        beyond `filled` (at `notional`, what the caller's books hold) is reported, its
        acceptance included (a caller that knows it drops the repeat); it is never sent again,
        and one Alpaca never received ends rejected once the not-found window has passed."""
        if cid in self._progress:
            return
        self._progress[cid] = mapping.OrderProgress(cid, filled=filled, notional=notional)
        self._doubts[cid] = Doubt(next_at=time.monotonic())

    def stream_is_mute(self) -> bool:
        """True (once) when an accepted order went unechoed by the stream for too long."""
        now = time.monotonic()
        if any(due <= now for due in self._echo_due.values()):
            self._echo_due.clear()
            return True
        return False

    async def resolve_due(self) -> None:
        now = time.monotonic()
        for cid in [c for c, d in self._doubts.items() if d.next_at <= now]:
            await self._resolve(cid)

    async def _resolve(self, cid: str) -> None:
        """Look an order in doubt up by its client order id; never send it again."""
        doubt, progress = self._doubts[cid], self._progress[cid]
        try:
            snapshot = await self._call(self._rest.order, cid)
        except APIError as exc:
            if exc.status_code != 404:
                log.warning("alpaca: lookup of %s failed: %s", cid, self.describe(exc))
            elif doubt.not_found(time.monotonic(), self._timings.not_found_window):
                del self._doubts[cid]
                progress.final = True
                reason = f"Alpaca has no order {cid} after {doubt.misses} lookups"
                self._deliver([OrderRejected(cid, datetime.now(UTC), reason, "BROKER_NOT_FOUND")])
                return
        except Exception as exc:
            log.warning("alpaca: lookup of %s failed: %s", cid, self.describe(exc))
        else:
            self._apply(progress, snapshot)
            return
        doubt.next_at = time.monotonic() + self._timings.lookup_interval

    def describe(self, error: BaseException) -> str:
        return mapping.describe_error(error, self._endpoint)
