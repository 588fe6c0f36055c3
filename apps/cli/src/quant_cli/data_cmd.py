"""`quant data`: ingest bars into PostgreSQL, validate sources (reporting what is wrong and where),
replay stored bars onto the bus (the data service's replay source) and stream live ones."""

# ruff: noqa: PLC0415 - pandas, the calendars and the database load when a command runs, not for --help
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from quant_cli.data_options import DataOption, EndOption, StartOption, replay_range
from quant_cli.data_stream_cmd import stream_command
from quant_cli.errors import fail, user_errors
from quant_cli.metrics_options import (
    DEFAULT_HOST,
    DEFAULT_PORTS,
    DataMetricsPort,
    MetricsHostOption,
    start_metrics,
)
from quant_cli.progress import progress_bar
from quant_cli.sources import open_data
from quant_db.settings import get_settings

if TYPE_CHECKING:
    from quant_marketdata import DataSource

data_app = typer.Typer(help="Market data.", no_args_is_help=True)


SYNTHETIC_INGEST_DECIMALS = 4
"""Places generated prices are quoted to when ingested: storage keeps 15 significant digits
exactly and quarantines longer prices (ADR 0012), and raw generated floats have ~17."""


def _day(value: datetime | None, end: bool) -> datetime | None:
    if value is None:
        return None
    return datetime.combine(value.date(), time.max if end else time.min, tzinfo=UTC)


def _alpaca_source(symbols: str | None, start: datetime | None, end: datetime | None) -> DataSource:
    """Alpaca daily bars of --symbols from --start to --end (default: now); keys from
    APCA_API_KEY_ID / APCA_API_SECRET_KEY (environment or .env)."""
    from quant_marketdata.alpaca import AlpacaSource  # alpaca-py only when asked for

    chosen = [s.strip() for s in (symbols or "").split(",") if s.strip()]
    if not chosen:
        raise fail("--source alpaca needs --symbols, e.g. --symbols SPY,GOOG")
    if start is None:
        raise fail("--source alpaca needs --start YYYY-MM-DD")
    return AlpacaSource(
        chosen, datetime.combine(start.date(), time.min, tzinfo=UTC), _day(end, True)
    )


@data_app.command("ingest")
@user_errors
def ingest_command(
    source: Annotated[
        str,
        typer.Option(
            help="samples, csv (a folder: --path), synthetic[:k=v,...] or alpaca (--symbols, --start)"
        ),
    ] = "samples",
    symbols: Annotated[
        str | None, typer.Option(help="comma-separated symbols (default: all)")
    ] = None,
    path: Annotated[
        Path | None, typer.Option(help="folder of CSV/Parquet files for --source csv")
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
) -> None:
    """Validate bars and load them into PostgreSQL with COPY; re-running the same range changes nothing."""
    from quant_db.migrate import migrated_url
    from quant_db.urls import redacted
    from quant_ingestion import ingest
    from quant_marketdata import SyntheticSource, open_source

    if source == "alpaca":
        data = _alpaca_source(symbols, start, end)
    elif source == "csv":
        if path is None:
            raise fail("--source csv needs --path FOLDER")
        data = open_source(str(path))
    else:
        data = open_source(source)
        if isinstance(data, SyntheticSource) and data.decimals is None:
            data.decimals = SYNTHETIC_INGEST_DECIMALS  # before any bar is generated
    chosen = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else None
    if chosen:
        missing = sorted(set(chosen) - set(data.symbols()))
        if missing:
            raise fail(
                f"--symbols: {', '.join(missing)} not in {data.name} (it has {', '.join(data.symbols()[:12])})"
            )
    url = migrated_url(get_settings())
    console = Console(highlight=False)
    with progress_bar(console, f"ingest {data.name}", "symbols") as report:
        summary = ingest(
            data,
            chosen,
            url,
            start=_day(start, False),
            end=_day(end, True),
            progress=lambda _s, done, total: report(done, total),
        )
    table = Table(
        title=f"ingestion run {summary.run_id} from {summary.source} into {redacted(url)}",
        title_justify="left",
    )
    for column in ("symbol", "received", "inserted", "updated", "unchanged", "quarantined"):
        table.add_column(column, justify="right" if column != "symbol" else "left")
    for symbol, counts in summary.per_symbol.items():
        table.add_row(
            symbol,
            *(
                f"{counts[k]:,}"
                for k in ("received", "inserted", "updated", "unchanged", "quarantined")
            ),
        )
    console.print(table)
    for symbol, reasons in summary.problems.items():
        for reason in reasons[:5]:
            console.print(f"quarantined {symbol}: {reason}")
    rate = summary.received / summary.seconds if summary.seconds else 0.0
    console.print(f"{summary.received:,} bars in {summary.seconds:.2f} s ({rate:,.0f} bars/s)")


@data_app.command("validate")
@user_errors
def validate(
    source: Annotated[
        str, typer.Argument(metavar="SOURCE", help="samples, synthetic[:k=v,...] or a folder")
    ],
    symbols: Annotated[
        list[str] | None, typer.Option("--symbol", help="only these symbols")
    ] = None,
    limit: Annotated[int, typer.Option(help="problems shown per symbol")] = 20,
) -> None:
    """Check every symbol's bars; exit 1 when any problem is found."""
    from quant_marketdata import validate_source

    data = open_data(source)
    report = validate_source(data, symbols)
    Console(highlight=False).print(report.render(limit=limit))
    if not report.ok:
        raise typer.Exit(1)


@data_app.command("replay")
@user_errors
def replay_command(
    replay: Annotated[
        str,
        typer.Argument(
            metavar="FROM..TO", help="the stored bars to publish, e.g. 2014-01-01..2018-12-31"
        ),
    ],
    symbols: Annotated[
        str | None, typer.Option(help="comma-separated symbols (default: every stored symbol)")
    ] = None,
    speed: Annotated[str, typer.Option(help="pace: 1x (as they closed), 60x, ... or max")] = "max",
    feed: Annotated[
        str, typer.Option(help="the source name the bars are published under")
    ] = "replay",
    timeframe: Annotated[str, typer.Option(help="bar timeframe, e.g. 1d or 1h")] = "1d",
    data: DataOption = None,
    metrics_host: MetricsHostOption = DEFAULT_HOST,
    metrics_port: DataMetricsPort = DEFAULT_PORTS["data"],
) -> None:
    """Publish stored bars FROM..TO on the bus as they would have closed, at SPEED (the data service's replay)."""
    from quant_bus.redis_bus import RedisBus
    from quant_cli.worker_cmd import configure_json_logs
    from quant_db.embedded import redis_url
    from quant_domain import Timeframe
    from quant_ingestion.bar_stream import publish_replay
    from quant_marketdata.replay import parse_speed
    from quant_telemetry import LastBarAges, keep_beating

    configure_json_logs("data", stream="stderr")
    first, last = replay_range(replay)
    pace = parse_speed(speed)
    frame_timeframe = Timeframe.parse(timeframe)
    source = open_data(data or "db")
    stored = source.symbols()
    chosen = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else stored
    missing = sorted(set(chosen) - set(stored))
    if missing:
        raise fail(f"--symbols: {', '.join(missing)} not in {source.name}")
    start = datetime.combine(first, time.min, tzinfo=UTC)
    end = datetime.combine(last, time.max, tzinfo=UTC)
    frames = {s: source.get_bars(s, start, end, frame_timeframe) for s in chosen}
    frames = {s: f for s, f in frames.items() if not f.empty}
    if not frames:
        raise fail(f"--replay: no {timeframe} bars in {source.name} between {first} and {last}")
    url = redis_url(get_settings())

    async def main() -> int:
        bus = RedisBus.from_url(url)
        ages = LastBarAges()
        metrics = start_metrics("data", metrics_host, metrics_port, [ages])
        stop = asyncio.Event()
        beating = asyncio.create_task(keep_beating("data", stop))
        try:
            return await publish_replay(
                bus, frames, source=feed, timeframe=timeframe, speed=pace, ages=ages
            )
        finally:
            stop.set()
            await beating
            if metrics is not None:
                metrics.close()
            await bus.close()

    typer.echo(
        f"replaying {len(frames)} symbol(s) of {source.name} {first} .. {last} at {speed} "
        f"as feed {feed!r}",
        err=True,
    )
    steps = asyncio.run(main())
    typer.echo(f"published {steps} steps of {', '.join(sorted(frames))} as feed {feed!r}")


data_app.command("stream")(stream_command)  # its own module: data_cmd.py is long enough
