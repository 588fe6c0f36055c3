"""`quant worker`: execute queued runs (backtests, walk-forwards) until stopped."""

# ruff: noqa: PLC0415 - the job runner and the database load when the worker starts, not for --help
from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Annotated

import structlog
import typer

from quant_cli.errors import user_errors
from quant_cli.metrics_options import (
    DEFAULT_HOST,
    DEFAULT_PORTS,
    MetricsHostOption,
    WorkerMetricsPort,
    start_metrics,
)
from quant_db.embedded import database_url, redis_url, revive_postgres, revive_valkey
from quant_db.settings import get_settings
from quant_domain import ConfigError

if TYPE_CHECKING:
    from quant_telemetry.logs import StandardStream

LOG_LEVELS = ("debug", "info", "warning", "error")


def configure_json_logs(service: str = "worker", stream: StandardStream = "stdout") -> None:
    """structlog JSON lines with timestamps, the service's name and bound context (run_id,
    strategy_id, ...), secrets redacted, at QUANT_LOG_LEVEL (default info), the variable the API
    reads too. The worker writes them to stdout; the other services to stderr, beside their
    human-readable lines on stdout."""
    from quant_telemetry import configure_logging, secrets_of

    name = os.environ.get("QUANT_LOG_LEVEL", "info").strip().lower() or "info"
    if name not in LOG_LEVELS:
        raise ConfigError(
            f"{name!r} is not a level; use debug, info, warning or error", field="QUANT_LOG_LEVEL"
        )
    configure_logging(service, name, stream=stream, secrets=secrets_of(get_settings()))


@user_errors
def worker_command(
    heartbeat_timeout: Annotated[
        float,
        typer.Option(min=1, help="seconds without a heartbeat before another worker retakes a job"),
    ] = 30.0,
    drain: Annotated[bool, typer.Option(help="exit once the queue is empty")] = False,
    concurrency: Annotated[
        int, typer.Option(min=1, help="runs executed at once by this worker")
    ] = 1,
    presence_prefix: Annotated[
        str | None,
        typer.Option(
            help="Redis key prefix of worker presence (default: QUANT_WORKER_KEY_PREFIX from the "
            "environment or .env, as the API reads it, else quant:workers)",
        ),
    ] = None,
    metrics_host: MetricsHostOption = DEFAULT_HOST,
    metrics_port: WorkerMetricsPort = DEFAULT_PORTS["worker"],
) -> None:
    """Run jobs from the queue; stop cleanly on Ctrl-C or SIGTERM (the current run is retried later).

    The worker announces itself in Redis (REDIS_URL, or the embedded Valkey) so GET /v1/health
    can list live workers; without Redis it still runs jobs, unannounced. While PostgreSQL is
    unreachable (at start or later) it waits and reconnects by itself; a run interrupted by the
    outage is tried again.
    """
    from quant_backtest.database_link import DatabaseLink
    from quant_backtest.job_loop import serve
    from quant_backtest.presence import PresenceSettings
    from quant_backtest.queue_depth import queue_depth
    from quant_db.migrate import upgrade
    from quant_db.urls import redacted
    from quant_engine.compilation import compile_kernels
    from quant_telemetry import ScrapedGauge, keep_beating, on_loop
    from quant_telemetry.metrics import JOB_QUEUE_DEPTH

    configure_json_logs()
    settings = get_settings()
    state = settings.quant_state_dir
    url = database_url(settings)  # without DATABASE_URL this starts the embedded server
    # the embedded servers have no one else to start them again should they die
    link = DatabaseLink(
        url, revive=None if settings.database_url else partial(revive_postgres, state)
    )
    presence = None
    try:
        prefix = presence_prefix or settings.quant_worker_key_prefix
        revive = None if settings.redis_url else partial(revive_valkey, state)
        presence = PresenceSettings(redis_url(settings), prefix=prefix, revive=revive)
    except Exception as exc:  # presence is advisory: no Redis must not keep jobs from running
        structlog.get_logger("quant.worker").warning(
            "worker.presence_disabled", error=f"{type(exc).__name__}: {exc}"[:200]
        )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        # a database that is down at start is waited for, like one that goes away later
        connection = await link.connect(stop)
        if connection is None:
            return
        await connection.close()
        await asyncio.to_thread(upgrade, url)
        typer.echo(f"worker using {redacted(url)}", err=True)
        # the first job must not pay numba's compile (or cache load): do it before taking one
        seconds = await asyncio.to_thread(compile_kernels)
        typer.echo(f"worker: fast-path kernels ready in {seconds:.1f} s", err=True)
        depth = ScrapedGauge(JOB_QUEUE_DEPTH, on_loop(loop, partial(queue_depth, url)))
        metrics = start_metrics("worker", metrics_host, metrics_port, [depth])
        beating = asyncio.create_task(keep_beating("worker", stop))
        try:
            await serve(
                url,
                heartbeat_timeout=timedelta(seconds=heartbeat_timeout),
                drain=drain,
                concurrency=concurrency,
                stop=stop,
                presence=presence,
                link=link,
            )
        finally:
            stop.set()
            await beating
            if metrics is not None:
                metrics.close()

    asyncio.run(main())
