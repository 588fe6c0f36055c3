"""`quant brokers check`: connect to an account's broker and print what it says, placing nothing."""

# ruff: noqa: PLC0415 - the adapters and their SDKs load when the command runs, not for --help
from __future__ import annotations

import logging
import sys
from enum import StrEnum
from typing import Annotated

import typer

from quant_cli.errors import fail

brokers_app = typer.Typer(help="Broker accounts.", no_args_is_help=True)

UNREACHABLE = 1
CHECK_CLIENT_ID = 990  # runners are numbered from 101 upwards (quant_execution.brokers)


class RealBroker(StrEnum):
    ALPACA = "alpaca"
    IB = "ib"


@brokers_app.command("check")
def check_command(
    broker: Annotated[
        RealBroker | None,
        typer.Option(help="the broker to check (default: the one QUANT_ACCOUNT_BROKERS names)"),
    ] = None,
    account: Annotated[
        str,
        typer.Option(envvar="QUANT_EXECUTION_ACCOUNT", help="the account whose broker to check"),
    ] = "paper",
    timeout: Annotated[float, typer.Option(min=0.5, help="seconds to wait for the broker")] = 10.0,
    client_id: Annotated[
        int,
        typer.Option(min=0, help="IB only: the API client id to check with (none a runner uses)"),
    ] = CHECK_CLIENT_ID,
) -> None:
    """Connect to ACCOUNT's broker, print its account summary and exit 0; no order is placed.

    Exit 1 with one line when the broker cannot be reached or refuses the credentials; exit 2
    on a bad option (or an account on the simulated broker, which has nothing to check). Keys
    come from the environment and are never printed.
    """
    from quant_execution.brokers import (
        SIM,
        BrokerRefused,
        BrokerRequest,
        broker_kind,
        build_broker,
        connect,
    )

    try:
        kind = broker.value if broker is not None else broker_kind(account)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if kind == SIM:
        raise fail(
            f"--account: {account!r} trades on the simulated broker (nothing to connect to); "
            "pass --broker alpaca|ib or name its broker in QUANT_ACCOUNT_BROKERS"
        )
    from quant_domain import BrokerUnavailable

    # the SDKs and the adapters log each failed attempt; with no handler Python would print
    # them all on stderr, where the command promises one line
    logging.getLogger().addHandler(logging.NullHandler())
    request = BrokerRequest(
        kind, account, runner="quant-brokers-check", client_id=client_id if kind == "ib" else None
    )
    try:
        live = connect(build_broker, request, timeout)
    except BrokerRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(UNREACHABLE) from None
    try:
        summary = live.summary()
    except (BrokerUnavailable, OSError, TimeoutError) as exc:
        print(f"error: {kind} did not give the account summary: {exc}", file=sys.stderr)
        raise typer.Exit(UNREACHABLE) from None
    finally:
        live.close()
    rows = [
        ("broker", summary.broker),
        ("endpoint", summary.endpoint),
        ("account", summary.account_id),
        ("status", summary.status),
        ("paper", "yes" if summary.paper else "NO (real money)"),
        ("can trade", "yes" if summary.can_trade else "no"),
        ("cash", f"{summary.cash}"),
        ("equity", f"{summary.equity}"),
        ("buying power", f"{summary.buying_power}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        typer.echo(f"{name.ljust(width)}  {value}")
