"""`quant monitoring run`: the monitoring service, alert rules, channel delivery, daily summary."""

# ruff: noqa: PLC0415 - the database, Redis and the channels load when the command runs
from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from quant_cli.errors import user_errors
from quant_cli.metrics_options import (
    DEFAULT_HOST,
    DEFAULT_PORTS,
    MetricsHostOption,
    MonitoringMetricsPort,
    start_metrics,
)

DEFAULT_CHANNELS = Path("configs/alerts/channels.yaml")

monitoring_app = typer.Typer(
    help="The monitoring service: alert rules, channels and heartbeats.",
    no_args_is_help=True,
)


@monitoring_app.command("run")
@user_errors
def run_command(
    channels: Annotated[
        Path, typer.Option(help="the channels file (secrets as ${VARIABLES} from the environment)")
    ] = DEFAULT_CHANNELS,
    every: Annotated[
        float, typer.Option(min=0.1, help="seconds between two evaluations of the alert rules")
    ] = 5.0,
    metrics_url: Annotated[
        str | None,
        typer.Option(
            help="the address Prometheus scrapes this service's /metrics at, shown in health "
            "(default: where it is served)"
        ),
    ] = None,
    metrics_host: MetricsHostOption = DEFAULT_HOST,
    metrics_port: MonitoringMetricsPort = DEFAULT_PORTS["monitoring"],
) -> None:
    """Evaluate the alert rules and deliver alerts to the channels until Ctrl-C or SIGTERM.

    Rules: a service missing heartbeats, stale bars while the market is open, a breaker or
    kill-switch change, a blocked reconciliation, a burst of order rejections, stream lag and
    dead letters, a broker disconnected for over 60 s, a failed run. Alerts go to the alerts table and to each
    channel of CHANNELS whose minimum severity they meet, at most once per dedupe key per channel
    in 5 minutes, retried with backoff; a daily summary follows each exchange session's close.
    """
    from pydantic import SecretStr
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from quant_bus.redis_bus import RedisBus
    from quant_cli.worker_cmd import configure_json_logs
    from quant_db.embedded import redis_url
    from quant_db.migrate import migrated_url
    from quant_db.presence import connect
    from quant_db.settings import get_settings
    from quant_db.urls import redacted
    from quant_monitoring.channel_config import load_channels
    from quant_monitoring.service import MonitoringService
    from quant_telemetry import add_secrets, keep_beating

    config = load_channels(channels)  # a bad file stops here: one line, exit 2
    configure_json_logs("monitoring", stream="stderr")
    # webhook URLs, HMAC keys and SMTP passwords are never logged, whatever logs them
    add_secrets(
        value.get_secret_value()
        for channel in config.channels
        for value in vars(channel).values()
        if isinstance(value, SecretStr)
    )
    settings = get_settings()
    url = migrated_url(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        engine = create_async_engine(url)
        metrics = start_metrics("monitoring", metrics_host, metrics_port)
        served = None if metrics is None else metrics.url
        redis = connect(redis_url(settings))
        bus = RedisBus.from_url(redis_url(settings))
        service = MonitoringService(
            async_sessionmaker(engine, expire_on_commit=False),
            redis,
            config,
            every_s=every,
            metrics_url=metrics_url or served,
            bus=bus,
        )
        names = ", ".join(c.name for c in config.channels) or "none (alerts stay in the table)"
        typer.echo(f"monitoring on {redacted(url)}: channels {names}", err=True)
        for left_out in config.left_out:
            typer.echo(f"channel left out: {left_out}", err=True)
        beating = asyncio.create_task(keep_beating("monitoring", stop))
        try:
            await service.run(stop)
        finally:
            stop.set()
            await beating
            if metrics is not None:
                metrics.close()
            await bus.close()
            await redis.aclose()
            await engine.dispose()

    asyncio.run(main())
