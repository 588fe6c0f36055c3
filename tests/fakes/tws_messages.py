"""The TWS socket protocol's framing and the server messages FakeTws sends, at server version 178.

Every message is a 4-byte big-endian length followed by ASCII fields, each ended by a NUL. The
layouts below are the ones ib_async 2.1.0's decoder reads (decoder.py): positional fields, most
left empty (the client reads "" as "unset"), the count fields ("0") present because the decoder
pops them. Field counts: openOrder 127, completedOrder 96, execDetails 32.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

SERVER_VERSION = 178

# message ids, server -> client
ORDER_STATUS = 3
ERROR = 4
OPEN_ORDER = 5
ACCOUNT_VALUE = 6
ACCOUNT_TIME = 8
NEXT_VALID_ID = 9
EXEC_DETAILS = 11
MANAGED_ACCOUNTS = 15
CURRENT_TIME = 49
REAL_TIME_BAR = 50
OPEN_ORDER_END = 53
ACCOUNT_DOWNLOAD_END = 54
EXEC_DETAILS_END = 55
COMMISSION_REPORT = 59
POSITION = 61
POSITION_END = 62
ACCOUNT_SUMMARY = 63
ACCOUNT_SUMMARY_END = 64
ACCOUNT_UPDATE_MULTI = 73
ACCOUNT_UPDATE_MULTI_END = 74
COMPLETED_ORDER = 101
COMPLETED_ORDERS_END = 102

Field = str | int | float


def frame(fields: Iterable[Field]) -> bytes:
    """One message: its fields NUL-terminated, behind a 4-byte big-endian length."""
    body = "".join(f"{_text(f)}\0" for f in fields).encode()
    return struct.pack(">I", len(body)) + body


def _text(value: Field) -> str:
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    return str(value)


def split_frames(buffer: bytearray) -> list[list[str]]:
    """Take every complete message off the front of `buffer` (the rest stays for later)."""
    messages = []
    while len(buffer) >= 4:
        size = struct.unpack(">I", buffer[:4])[0]
        if len(buffer) < 4 + size:
            break
        body = bytes(buffer[4 : 4 + size]).decode(errors="replace")
        del buffer[: 4 + size]
        messages.append(body.split("\0")[:-1])
    return messages


def ib_time(at: datetime) -> str:
    """An execution time as TWS writes it, with its zone so the client needs no TWS time zone."""
    return at.astimezone(UTC).strftime("%Y%m%d %H:%M:%S") + " UTC"


@dataclass(slots=True)
class WireOrder:
    """What the fake knows of an order: enough to write openOrder, orderStatus and its fills."""

    order_id: int
    client_id: int
    perm_id: int
    con_id: int
    symbol: str
    action: str  # BUY or SELL
    quantity: float
    order_type: str  # MKT, LMT, STP, STP LMT
    limit_price: float | None
    aux_price: float | None
    tif: str
    account: str
    order_ref: str
    status: str = "PreSubmitted"
    filled: float = 0.0
    avg_price: float = 0.0
    last_price: float = 0.0
    completed_at: datetime | None = None

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled

    @property
    def working(self) -> bool:
        return self.status in ("PreSubmitted", "Submitted", "PendingCancel")


def contract11(con_id: int, symbol: str) -> list[Field]:
    """The 11-field contract of openOrder, execDetails and position (no primary exchange)."""
    return [con_id, symbol, "STK", "", 0.0, "", "", "SMART", "USD", symbol, symbol]


def _order_head(order: WireOrder) -> list[Field]:
    lmt = "" if order.limit_price is None else order.limit_price
    aux = "" if order.aux_price is None else order.aux_price
    return [order.action, order.quantity, order.order_type, lmt, aux, order.tif, ""]


def open_order(order: WireOrder) -> list[Field]:
    """openOrder (5): no version field at 178; the order's status travels in its OrderState."""
    head: list[Field] = [OPEN_ORDER, order.order_id, *contract11(order.con_id, order.symbol)]
    head += [*_order_head(order), order.account, "", 0, order.order_ref]
    head += [order.client_id, order.perm_id, 0, 0, "", "", "", "", "", ""]
    # modelCode .. deltaNeutralAuxPrice (29), then continuousUpdate .. comboLegsDescrip (7)
    tail: list[Field] = ["" for _ in range(29 + 7)]
    tail += [0, 0, 0]  # combo legs, order combo legs, smart combo routing params
    tail += ["", "", ""]  # scale init level size, subs level size, price increment
    tail += [""]  # hedge type
    tail += [0, "", "", 0, 0]  # optOutSmartRouting, clearing account/intent, notHeld, no DNC
    tail += [""]  # algo strategy
    state: list[Field] = [0, 0, order.status, *[""] * 14, 0, 0]  # solicited, whatIf, .. randomize
    tail += state
    tail += [0]  # conditions
    tail += [""] * 16 + ["", "", ""] + [""] * 5  # adjusted .. usePriceMgmtAlgo, 159-162, 170
    return head + tail


def completed_order(order: WireOrder) -> list[Field]:
    """completedOrder (101): no order id or client id; the client keys it by permId."""
    fields: list[Field] = [COMPLETED_ORDER, *contract11(order.con_id, order.symbol)]
    fields += [*_order_head(order), order.account, "", 0, order.order_ref]
    fields += [order.perm_id, 0, 0, "", "", "", "", ""]
    fields += [""] * 23 + [""] * 5  # modelCode .. deltaNeutralAuxPrice, continuousUpdate ..
    fields += [0, 0, 0, "", "", "", ""]  # legs, order legs, params, scale x3, hedge type
    fields += ["", "", 0, 0, ""]  # clearing account/intent, notHeld, no DNC, algo strategy
    fields += [0, order.status, 0, 0, 0]  # solicited, status, randomize x2, conditions
    done = order.completed_at or datetime.now(UTC)
    fields += ["", "", "", 0, 0, "", order.filled, "", 0, "", 0, 0, ""]
    fields += [done.strftime("%Y%m%d %H:%M:%S"), order.status]
    fields += [""] * 5
    return fields


def order_status(order: WireOrder) -> list[Field]:
    """orderStatus (3): filled, remaining and prices as TWS reports them after each change."""
    return [
        ORDER_STATUS,
        order.order_id,
        order.status,
        order.filled,
        order.remaining,
        order.avg_price,
        order.perm_id,
        0,
        order.last_price,
        order.client_id,
        "",
        0.0,
    ]


@dataclass(slots=True)
class WireExecution:
    """One execution (or a correction of one: the same execId up to its last dot)."""

    exec_id: str
    order: WireOrder
    shares: float
    price: float
    at: datetime
    cum_qty: float
    avg_price: float
    commission: float


def exec_details(execution: WireExecution, req_id: int = -1) -> list[Field]:
    """execDetails (11): reqId -1 for a live fill, the request's id for reqExecutions."""
    order = execution.order
    side = "BOT" if order.action == "BUY" else "SLD"
    return [
        EXEC_DETAILS,
        req_id,
        order.order_id,
        *contract11(order.con_id, order.symbol),
        execution.exec_id,
        ib_time(execution.at),
        order.account,
        "ISLAND",
        side,
        execution.shares,
        execution.price,
        order.perm_id,
        order.client_id,
        0,
        execution.cum_qty,
        execution.avg_price,
        order.order_ref,
        "",
        "",
        "",
        1,
        0,
    ]


def commission_report(execution: WireExecution) -> list[Field]:
    return [COMMISSION_REPORT, 1, execution.exec_id, execution.commission, "USD", "", "", ""]


def error(req_id: int, code: int, message: str) -> list[Field]:
    """An error or notice (4): reqId is the order id for order errors, -1 for the link's."""
    return [ERROR, 2, req_id, code, message, ""]


def position(
    account: str, con_id: int, symbol: str, quantity: float, avg_cost: float
) -> list[Field]:
    return [POSITION, 3, account, *contract11(con_id, symbol), quantity, avg_cost]


def summary_rows(req_id: int, account: str, values: Sequence[tuple[str, str]]) -> list[list[Field]]:
    """accountSummary (63) rows for the tags asked for, then accountSummaryEnd (64)."""
    rows: list[list[Field]] = [
        [ACCOUNT_SUMMARY, 1, req_id, account, tag, value, "" if tag == "AccountType" else "USD"]
        for tag, value in values
    ]
    rows.append([ACCOUNT_SUMMARY_END, 1, req_id])
    return rows
