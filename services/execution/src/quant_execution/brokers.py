"""Which broker an account trades through, and building that broker's adapter from its settings.

`sim` (the default) is the simulated paper broker inside each session; `alpaca` and `ib` are the
real adapters of quant_brokers, imported only when an account names them, so the service runs
(on `sim`) whether or not they are installed. A kind that cannot be built (module missing,
settings missing, broker unreachable) raises BrokerRefused with one line saying why; the service
then refuses the strategy and trades nothing for it.

Interactive Brokers needs two numbers per runner that must survive restarts, both derived from
PostgreSQL without a table of their own: the runner's client id (a row in `processed_events`
under the group `ib-client-ids`, key `<runner>=<id>`, allocated under an advisory lock) and the
order-id floor (the highest numeric broker order id stored for the account's IB runs), below
which the adapter must not number an order even if TWS hands out a lower nextValidId.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, cast

from sqlalchemy import BigInteger, func, select, text
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_db.schema import Order, Run
from quant_db.schema.execution import ProcessedEvent
from quant_db.schema.runs import RunType
from quant_domain import BrokerUnavailable, ConfigError
from quant_domain.ports import LiveBroker

SIM = "sim"
KINDS = (SIM, "alpaca", "ib")
"""The kinds an account may name; `sim` needs no adapter."""

ACCOUNT_BROKERS_ENV = "QUANT_ACCOUNT_BROKERS"
"""`account=kind,...`, e.g. `paper=sim,alpaca-paper=alpaca`; an account not named is on `sim`."""

IB_CLIENT_GROUP = "ib-client-ids"
_FIRST_CLIENT_ID = 101  # below it: ids people give TWS by hand (0 is the master client)
_LOCK_KEY = 0x1B_C11E  # pg_advisory_xact_lock key for allocating client ids


class BrokerRefused(Exception):
    """The account's broker cannot be used: the message says why in one line (never a key)."""


def account_brokers(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The kind each account names in QUANT_ACCOUNT_BROKERS; raises ValueError on a bad entry."""
    raw = (os.environ if env is None else env).get(ACCOUNT_BROKERS_ENV, "")
    chosen: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        account, sep, kind = entry.partition("=")
        if not sep or not account.strip() or kind.strip() not in KINDS:
            raise ValueError(
                f"{ACCOUNT_BROKERS_ENV}: {entry!r} is not account=kind with kind one of "
                f"{', '.join(KINDS)}"
            )
        chosen[account.strip()] = kind.strip()
    return chosen


def broker_kind(account: str, env: Mapping[str, str] | None = None) -> str:
    """The kind of broker `account` trades through (`sim` unless QUANT_ACCOUNT_BROKERS says)."""
    return account_brokers(env).get(account, SIM)


@dataclass(frozen=True, slots=True)
class BrokerRequest:
    """What building one runner's adapter needs: the kind, the account, the runner's name and,
    for Interactive Brokers, its persisted client id and order-id floor."""

    kind: str
    account: str
    runner: str
    client_id: int | None = None
    order_id_floor: int = 0


BrokerFactory = Callable[[BrokerRequest], LiveBroker]
"""Builds (does not connect) an adapter; raises BrokerRefused when it cannot."""


def _adapter_module(kind: str, part: str) -> ModuleType:
    name = f"quant_brokers.{kind}.{part}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise BrokerRefused(
            f"the {kind} adapter is not installed ({name} is missing): this account cannot trade"
        ) from exc


def build_broker(request: BrokerRequest) -> LiveBroker:
    """The adapter `request.kind` names, from its settings (the environment); not connected."""
    kind = request.kind
    if kind not in ("alpaca", "ib"):
        raise BrokerRefused(f"no adapter for broker kind {kind!r} (known: {', '.join(KINDS)})")
    settings_module = _adapter_module(kind, "settings")
    client_module = _adapter_module(kind, "client")
    try:
        if kind == "alpaca":  # its keys are read here; a missing one is named, never shown
            settings = _settings(kind, settings_module.AlpacaBrokerSettings)
            broker = client_module.AlpacaBroker(settings)
        else:  # the client id is the runner's, persisted; the floor, the account's highest
            settings = _settings(kind, settings_module.IbSettings)
            broker = client_module.IbBroker(
                settings, client_id=request.client_id, order_id_floor=request.order_id_floor
            )
    except ConfigError as exc:
        raise BrokerRefused(f"the {kind} settings are incomplete: {exc}") from exc
    return cast(LiveBroker, broker)


def _settings(kind: str, settings_class: Callable[[], Any]) -> Any:
    try:
        return settings_class()
    except Exception as exc:  # pydantic's ValidationError names the missing variables
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BrokerRefused(f"the {kind} settings are incomplete: {first}") from exc


def connect(factory: BrokerFactory, request: BrokerRequest, timeout: float) -> LiveBroker:
    """Build and connect the adapter (blocking: run it in a worker thread)."""
    broker = factory(request)
    try:
        broker.connect(timeout=timeout)
    except (BrokerUnavailable, OSError, TimeoutError) as exc:
        raise BrokerRefused(
            f"cannot connect to {request.kind} for account {request.account!r}: {exc}"
        ) from exc
    return broker


async def ib_client_id(sessions: async_sessionmaker[AsyncSession], runner: str) -> int:
    """The IB client id persisted for `runner`; a new one (the next free) the first time."""
    async with sessions.begin() as db:
        await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        keys = (
            await db.scalars(
                select(ProcessedEvent.idempotency_key).where(
                    ProcessedEvent.consumer_group == IB_CLIENT_GROUP
                )
            )
        ).all()
        taken: dict[str, int] = {}
        for key in keys:
            name, _, number = key.rpartition("=")
            taken[name] = int(number)
        if runner in taken:
            return taken[runner]
        chosen = max([_FIRST_CLIENT_ID - 1, *taken.values()]) + 1
        await db.execute(
            pg_insert(ProcessedEvent).values(
                consumer_group=IB_CLIENT_GROUP, idempotency_key=f"{runner}={chosen}"
            )
        )
        return chosen


async def ib_order_id_floor(sessions: async_sessionmaker[AsyncSession], account: str) -> int:
    """The highest IB order id stored for `account` (its runs' numeric broker order ids), 0 when
    none: the adapter numbers new orders above it."""
    async with sessions() as db:
        highest = await db.scalar(
            select(func.max(sql_cast(Order.broker_order_id, BigInteger)))
            .join(Run, Run.id == Order.run_id)
            .where(
                Run.repro["broker"].as_string() == "ib",
                Run.repro["account"].as_string() == account,
                Order.broker_order_id.op("~")("^[0-9]{1,18}$"),
            )
        )
    return int(highest or 0)


async def open_broker(
    sessions: async_sessionmaker[AsyncSession],
    factory: BrokerFactory,
    kind: str,
    account: str,
    runner: str,
    timeout: float,
) -> LiveBroker:
    """The runner's adapter, connected (IB's client id and order-id floor read first); raises
    BrokerRefused saying why it cannot be used."""
    client_id, floor = None, 0
    if kind == "ib":
        client_id = await ib_client_id(sessions, runner)
        floor = await ib_order_id_floor(sessions, account)
    request = BrokerRequest(kind, account, runner, client_id, floor)
    return await asyncio.to_thread(connect, factory, request, timeout)


async def first_live_start(sessions: async_sessionmaker[AsyncSession], strategy_id: str) -> bool:
    """No live run of `strategy_id` was ever opened."""
    async with sessions() as db:
        count = await db.scalar(
            select(func.count())
            .select_from(Run)
            .where(Run.strategy_id == strategy_id, Run.type == RunType.LIVE)
        )
    return not count
