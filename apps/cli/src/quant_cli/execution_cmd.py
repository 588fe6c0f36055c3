"""`quant execution run`: the execution service, paper sessions for the strategies in PAPER mode."""

# ruff: noqa: PLC0415 - the services, the database and the strategies load when the command runs
from __future__ import annotations

import asyncio
import json
import signal
from typing import Annotated

import typer

from quant_cli.data_options import DataOption
from quant_cli.errors import user_errors
from quant_cli.metrics_options import (
    DEFAULT_HOST,
    DEFAULT_PORTS,
    ExecutionMetricsPort,
    MetricsHostOption,
    start_metrics,
)

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
    account: Annotated[str, typer.Option(help="the paper account the sessions trade")] = "paper",
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
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        service = ExecutionService(
            sessions,
            bus,
            source,
            feed=feed,
            account=account,
            poll_s=poll,
            stream=stream,
        )
        # the monitoring service's heartbeat: alive, its database link and sessions
        heartbeat = HeartbeatBeacon(
            sessions,
            "execution",
            detail=lambda: {
                "database_ok": service.health.database_ok,
                "sessions": sorted(service.trading),
                "feed": feed,
            },
        )
        heartbeat.start()
        typer.echo(
            f"execution service on {redacted(url)}: trading feed {feed!r} for the strategies "
            "in PAPER mode (Ctrl-C stops)",
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
            await stream.aclose()
            await engine.dispose()

    asyncio.run(main())
