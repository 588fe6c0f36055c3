"""`quant execution run`: the execution service, paper sessions for the strategies in PAPER mode."""

# ruff: noqa: PLC0415 - the services, the database and the strategies load when the command runs
from __future__ import annotations

import asyncio
import json
import signal
from enum import StrEnum
from typing import Annotated

import typer

from quant_cli.data_options import DataOption
from quant_cli.errors import fail, user_errors
from quant_cli.metrics_options import (
    DEFAULT_HOST,
    DEFAULT_PORTS,
    ExecutionMetricsPort,
    MetricsHostOption,
    start_metrics,
)


class FeedKindChoice(StrEnum):
    LIVE = "live"
    REPLAY = "replay"


class BrokerChoice(StrEnum):
    SIM = "sim"
    ALPACA = "alpaca"
    IB = "ib"


def _broker_kind(broker: BrokerChoice | None, account: str) -> str:
    """--broker, else what QUANT_ACCOUNT_BROKERS names for the account (exit 2 when malformed)."""
    from quant_execution.brokers import broker_kind

    try:
        return broker.value if broker is not None else broker_kind(account)
    except ValueError as exc:
        raise fail(str(exc)) from None


DEFAULT_FEED = "replay"
"""The `source` the data service's `quant data replay` publishes under unless told otherwise."""

execution_app = typer.Typer(
    help="The execution service: paper sessions for the strategies in PAPER mode.",
    no_args_is_help=True,
)


@execution_app.command("run")
@user_errors
def run_command(
    feed: Annotated[
        str, typer.Option(help="trade the bars published under this source (the data service's)")
    ] = DEFAULT_FEED,
    feed_kind: Annotated[
        FeedKindChoice | None,
        typer.Option(
            help="live: no new entry unless the feed's health in Redis allows it (ADR 0041); "
            "replay: no health is read. Default: replay for a feed named replay or replay:*, "
            "else live"
        ),
    ] = None,
    account: Annotated[
        str, typer.Option(envvar="QUANT_EXECUTION_ACCOUNT", help="the account the sessions trade")
    ] = "paper",
    broker: Annotated[
        BrokerChoice | None,
        typer.Option(
            help="the account's broker (default: what QUANT_ACCOUNT_BROKERS names, else sim)"
        ),
    ] = None,
    settle: Annotated[
        float, typer.Option(min=0.1, help="seconds a step waits for a real broker's answers")
    ] = 5.0,
    poll: Annotated[
        float, typer.Option(min=0.05, help="seconds between reads of the strategies' modes")
    ] = 1.0,
    data: DataOption = None,
    metrics_host: MetricsHostOption = DEFAULT_HOST,
    metrics_port: ExecutionMetricsPort = DEFAULT_PORTS["execution"],
) -> None:
    """Trade every strategy in PAPER mode on FEED's bars until Ctrl-C or SIGTERM.

    A strategy moved to PAPER (its page on the dashboard, or POST /v1/controls/mode-transition)
    starts a paper session within POLL seconds: reconciled first, warmed up on the stored bars
    before its first bar, every order written to PostgreSQL before the paper broker sees it. A
    strategy moved out of PAPER stops, its working orders cancelled. The kill switch is obeyed
    from its broadcast and read again before every step. On stop, every session is closed; a
    session left running by a killed service is rebuilt at the next start and trades on.
    """
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from quant_bus.redis_bus import RedisBus
    from quant_cli.sources import open_data
    from quant_cli.worker_cmd import configure_json_logs
    from quant_db.embedded import redis_url
    from quant_db.heartbeats import HeartbeatBeacon
    from quant_db.migrate import migrated_url
    from quant_db.settings import get_settings
    from quant_db.urls import redacted
    from quant_execution.gauges import execution_collectors
    from quant_execution.service import ExecutionService
    from quant_telemetry import keep_beating

    kind = _broker_kind(broker, account)
    configure_json_logs("execution", stream="stderr")
    settings = get_settings()
    url = migrated_url(settings)
    source = open_data(data or "db")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        engine = create_async_engine(url)
        cache = redis_url(settings)
        bus = RedisBus.from_url(cache)
        stream = Redis.from_url(cache, decode_responses=True)  # a feed's history, to rebuild
        # the live feed's health, read before every step: a hung server must not hang it
        health = Redis.from_url(cache, socket_timeout=1.0, socket_connect_timeout=1.0)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        service = ExecutionService(
            sessions,
            bus,
            source,
            feed=feed,
            account=account,
            poll_s=poll,
            stream=stream,
            broker=kind,
            settle_s=settle,
            announce=lambda message: typer.echo(message, err=True),
            feed_health=health,
            feed_kind=None if feed_kind is None else feed_kind.value,
        )
        # the monitoring service's heartbeat: alive, its database link and sessions
        heartbeat = HeartbeatBeacon(
            sessions,
            "execution",
            detail=lambda: {
                "database_ok": service.health.database_ok,
                "sessions": sorted(service.trading),
                "feed": feed,
                "feed_kind": service.feed_gate.kind.value,
            },
        )
        heartbeat.start()
        typer.echo(
            f"execution service on {redacted(url)}: trading {service.feed_gate.kind.value} feed "
            f"{feed!r} for the strategies "
            f"in PAPER (and, on a real broker, LIVE) mode, account {account!r} on {kind} "
            "(Ctrl-C stops)",
            err=True,
        )
        collectors = execution_collectors(service, service.step_metrics, sessions, stream, loop)
        metrics = start_metrics("execution", metrics_host, metrics_port, collectors)
        beating = asyncio.create_task(keep_beating("execution", stop))
        try:
            await service.run(stop)
        finally:
            stop.set()
            await beating
            if metrics is not None:
                metrics.close()
            typer.echo(json.dumps(service.describe()), err=True)
            await heartbeat.stop()
            await bus.close()
            await asyncio.gather(stream.aclose(), health.aclose())
            await engine.dispose()

    asyncio.run(main())
