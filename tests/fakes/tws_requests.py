"""FakeTws's answers to the client's requests, one function per request id (client -> server).

Request layouts are those ib_async 2.1.0's client.py writes at server version 178; a request
the fake does not know is ignored, as TWS ignores what it cannot parse.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.fakes import tws_messages as msg

if TYPE_CHECKING:
    from tests.fakes.tws import FakeTws, Session

Handler = Callable[["FakeTws", "Session", list[str]], None]


def place_order(tws: FakeTws, session: Session, fields: list[str]) -> None:
    """3: orderId, contract(12), secIdType, secId, action, qty, type, lmt, aux, tif, ..."""
    order_id = int(fields[1])
    if tws.losses > 0:
        tws.losses -= 1
        tws.lost.append((session.client_id, order_id, fields[26]))
        return
    tws.placed.append((session.client_id, order_id, fields[26]))
    tws.next_valid_id = max(tws.next_valid_id, order_id + 1)
    existing = tws.book.find(session.client_id, order_id)
    if existing is not None:
        if existing.working:  # a modify: new quantity and prices
            existing.quantity = float(fields[17])
            existing.limit_price = float(fields[19]) if fields[19] else None
            existing.aux_price = float(fields[20]) if fields[20] else None
            tws.send_status(existing)
            tws.try_fill(existing)
        else:
            tws.duplicate_ids.append(order_id)
            session.send(msg.error(order_id, 103, "Duplicate order id"))
        return
    order = tws.book.new_order(session.client_id, order_id, fields)
    if tws.reject > 0:
        tws.reject -= 1
        tws.book.cancel(order)
        order.status = "Inactive"
        text = "Order rejected - reason:The account does not have enough buying power"
        session.send(msg.error(order_id, 201, text))
        return
    if tws.ack_held:
        order.status = "Submitted"
        return
    order.status = "Submitted"
    if not tws.execs_first or tws.book.fill_price(order) is None:
        tws.send_status(order)
    tws.try_fill(order)


def cancel_order(tws: FakeTws, session: Session, fields: list[str]) -> None:
    """4: 1, orderId, manualCancelOrderTime."""
    order_id = int(fields[2])
    order = tws.book.find(session.client_id, order_id)
    if order is None or not order.working:
        text = f"OrderId {order_id} that needs to be cancelled cannot be cancelled."
        session.send(msg.error(order_id, 10148 if order else 10147, text))
        return
    tws.book.cancel(order)
    session.send(msg.order_status(order))
    session.send(msg.error(order_id, 202, "Order Canceled - reason:"))


def global_cancel(tws: FakeTws, session: Session, fields: list[str]) -> None:
    for order in tws.book.orders:
        if order.working:
            tws.book.cancel(order)
            tws.send_status(order)


def open_orders(tws: FakeTws, session: Session, fields: list[str]) -> None:
    """5 (this client's working orders) and 16 (every client's), each then openOrderEnd."""
    every = fields[0] == "16"
    for order in tws.book.orders:
        if order.working and (every or order.client_id == session.client_id):
            session.send(msg.open_order(order))
            session.send(msg.order_status(order))
    session.send([msg.OPEN_ORDER_END, 1])


def completed_orders(tws: FakeTws, session: Session, fields: list[str]) -> None:
    """99: apiOnly; every finished order of the account, then completedOrdersEnd."""
    for order in tws.book.orders:
        if not order.working:
            session.send(msg.completed_order(order))
    session.send([msg.COMPLETED_ORDERS_END])


def executions(tws: FakeTws, session: Session, fields: list[str]) -> None:
    """7: 3, reqId, filter (clientId, acct, time, symbol, secType, exchange, side).

    Like TWS for a client that is not the master: only this client id's executions.
    """
    req_id = int(fields[2])
    symbol, side = fields[6], fields[9]
    chosen = [
        e
        for e in tws.book.executions
        if e.order.client_id == session.client_id
        and (not symbol or symbol == e.order.symbol)
        and (not side or side[:1] == e.order.action[:1])
    ]
    for execution in chosen:
        session.send(msg.exec_details(execution, req_id))
    session.send([msg.EXEC_DETAILS_END, 1, req_id])
    for execution in chosen:
        session.send(msg.commission_report(execution))


def positions(tws: FakeTws, session: Session, fields: list[str]) -> None:
    """61: every position, then positionEnd; later changes follow live."""
    session.positions = True
    book = tws.book
    for symbol, (quantity, avg) in book.positions.items():
        session.send(msg.position(book.account, book.con_id(symbol), symbol, quantity, avg))
    session.send([msg.POSITION_END, 1])


def cancel_positions(tws: FakeTws, session: Session, fields: list[str]) -> None:
    session.positions = False


def account_updates(tws: FakeTws, session: Session, fields: list[str]) -> None:
    """6: 2, subscribe, account: account values, update time, accountDownloadEnd."""
    session.account_updates = fields[2] == "1"
    if not session.account_updates:
        return
    account = tws.book.account
    for key, value in tws.book.values().items():
        session.send([msg.ACCOUNT_VALUE, 2, key, value, "USD", account])
    session.send([msg.ACCOUNT_TIME, 1, time.strftime("%H:%M")])
    session.send([msg.ACCOUNT_DOWNLOAD_END, 1, account])


def account_updates_multi(tws: FakeTws, session: Session, fields: list[str]) -> None:
    """76: 1, reqId, account, modelCode, ledgerAndNLV."""
    req_id, account = int(fields[2]), tws.book.account
    for key, value in tws.book.values().items():
        session.send([msg.ACCOUNT_UPDATE_MULTI, 1, req_id, account, "", key, value, "USD"])
    session.send([msg.ACCOUNT_UPDATE_MULTI_END, 1, req_id])


def account_summary(tws: FakeTws, session: Session, fields: list[str]) -> None:
    """62: 1, reqId, group, tags (comma separated)."""
    req_id, asked = int(fields[2]), set(fields[4].split(","))
    values = [("AccountType", "INDIVIDUAL")]
    values += [(tag, str(value)) for tag, value in tws.book.values().items()]
    chosen = [(tag, value) for tag, value in values if tag in asked]
    for row in msg.summary_rows(req_id, tws.book.account, chosen):
        session.send(row)


def next_ids(tws: FakeTws, session: Session, fields: list[str]) -> None:
    session.send([msg.NEXT_VALID_ID, 1, tws.next_valid_id])


def current_time(tws: FakeTws, session: Session, fields: list[str]) -> None:
    session.send([msg.CURRENT_TIME, 1, int(time.time())])


def managed_accounts(tws: FakeTws, session: Session, fields: list[str]) -> None:
    session.send([msg.MANAGED_ACCOUNTS, 1, tws.book.account])


def real_time_bars(tws: FakeTws, session: Session, fields: list[str]) -> None:
    """50: 3, reqId, contract(12), barSize, whatToShow, useRTH, options."""
    session.bars[int(fields[2])] = fields[4]


def cancel_real_time_bars(tws: FakeTws, session: Session, fields: list[str]) -> None:
    session.bars.pop(int(fields[2]), None)


HANDLERS: dict[str, Handler] = {
    "3": place_order,
    "4": cancel_order,
    "5": open_orders,
    "6": account_updates,
    "7": executions,
    "8": next_ids,
    "16": open_orders,
    "17": managed_accounts,
    "49": current_time,
    "50": real_time_bars,
    "51": cancel_real_time_bars,
    "58": global_cancel,
    "61": positions,
    "62": account_summary,
    "64": cancel_positions,
    "76": account_updates_multi,
    "99": completed_orders,
}


def dispatch(tws: FakeTws, session: Session, fields: list[str]) -> None:
    handler = HANDLERS.get(fields[0])
    if handler is not None:
        handler(tws, session, fields)
