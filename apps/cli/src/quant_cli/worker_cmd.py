"""`quant worker`: execute queued runs (backtests, walk-forwards) until stopped."""

# ruff: noqa: PLC0415 - the job runner and the database load when the worker starts, not for --help
from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import timedelta
from typing import Annotated

import structlog
import typer

from quant_cli.errors import user_errors
from quant_db.embedded import redis_url
from quant_db.settings import get_settings
from quant_domain import ConfigError

LOG_LEVELS = ("debug", "info", "warning", "error")


def configure_json_logs() -> None:
    """structlog JSON lines with timestamps and bound context (run_id, strategy_id, ...), at
    QUANT_LOG_LEVEL (default info), the variable the API reads too."""
    name = os.environ.get("QUANT_LOG_LEVEL", "info").strip().lower() or "info"
    if name not in LOG_LEVELS:
        raise ConfigError(
            f"{name!r} is not a level; use debug, info, warning or error", field="QUANT_LOG_LEVEL"
        )
    level = logging.getLevelNamesMapping()[name.upper()]
    logging.basicConfig(level=level, format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(),
    )


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
) -> None:
    """Run jobs from the queue; stop cleanly on Ctrl-C or SIGTERM (the current run is retried later).

    The worker announces itself in Redis (REDIS_URL, or the embedded Valkey) so GET /v1/health
    can list live workers; without Redis it still runs jobs, unannounced.
    """
    from quant_backtest.presence import PresenceSettings
    from quant_backtest.worker import serve
    from quant_db.migrate import migrated_url
    from quant_db.urls import redacted

    configure_json_logs()
    settings = get_settings()
    url = migrated_url(settings)
    typer.echo(f"worker using {redacted(url)}", err=True)
    presence = None
    try:
        prefix = presence_prefix or settings.quant_worker_key_prefix
        presence = PresenceSettings(redis_url(settings), prefix=prefix)
    except Exception as exc:  # presence is advisory: no Redis must not keep jobs from running
        structlog.get_logger("quant.worker").warning(
            "worker.presence_disabled", error=f"{type(exc).__name__}: {exc}"[:200]
        )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(
            url,
            heartbeat_timeout=timedelta(seconds=heartbeat_timeout),
            drain=drain,
            concurrency=concurrency,
            stop=stop,
            presence=presence,
        )

    asyncio.run(main())
