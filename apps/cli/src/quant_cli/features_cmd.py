"""`quant features`: compute a feature set over stored or sample bars, through the feature store."""

# ruff: noqa: PLC0415 - pandas, pandas-ta and the database load when a command runs, not for --help
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from quant_cli.data_options import DataOption, EndOption, StartOption
from quant_cli.errors import fail, user_errors
from quant_cli.sources import open_data

if TYPE_CHECKING:
    import pandas as pd

    from quant_db.feature_store import StoreOutcome
    from quant_features import FeatureSet

features_app = typer.Typer(help="Feature sets and the feature store.", no_args_is_help=True)


def _symbols(text: str | None, known: list[str]) -> list[str]:
    if text is None:
        return known
    chosen = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not chosen:
        raise fail("--symbols: name at least one symbol, e.g. --symbols SP500,NASDAQ")
    for symbol in chosen:
        if symbol not in known:
            shown = ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")
            raise fail(
                f"--symbols: unknown symbol {symbol!r}; the data source has {shown or 'none'}"
            )
    return chosen


async def _through_store(
    url: str, feature_set: FeatureSet, bars: pd.DataFrame
) -> tuple[pd.DataFrame, StoreOutcome]:
    import asyncpg

    from quant_db.feature_store import features_with_store
    from quant_db.urls import asyncpg_dsn

    connection: Any = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return await features_with_store(connection, feature_set, bars)
    finally:
        await connection.close()


@features_app.command("compute")
@user_errors
def compute_command(
    config: Annotated[Path, typer.Argument(help="feature-set YAML (configs/features/*.yaml)")],
    symbols: Annotated[
        str | None, typer.Option(help="comma-separated symbols (default: all the source has)")
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    data: DataOption = None,
) -> None:
    """Compute CONFIG for --symbols from --start to --end; a second run over the same bars reads
    the feature store. Earlier bars are read too, as the features' warm-up."""
    import pandas as pd

    from quant_db.migrate import migrated_url
    from quant_db.settings import get_settings
    from quant_features import bars_panel, load_feature_set

    feature_set = load_feature_set(config)
    if start is not None and end is not None and start > end:
        raise fail(f"--start {start.date()} is after --end {end.date()}")
    source = open_data(data or "samples")
    chosen = _symbols(symbols, source.symbols())
    last = None if end is None else datetime.combine(end.date(), time.max, tzinfo=UTC)
    frames = {symbol: source.get_bars(symbol, None, last) for symbol in chosen}
    empty = [symbol for symbol, frame in frames.items() if frame.empty]
    if empty:
        raise fail(f"--end: no bars of {', '.join(empty)} up to {end.date() if end else 'now'}")
    bars = bars_panel(frames)
    features, outcome = asyncio.run(_through_store(migrated_url(get_settings()), feature_set, bars))
    stamps = features.index.get_level_values("timestamp")
    first = pd.Timestamp(start.date(), tz="UTC") if start else stamps.min()
    shown = features[(stamps >= first)]
    complete = int(shown.notna().all(axis=1).sum())
    store = "hit" if outcome.hit else "miss"
    print(
        f"{feature_set.name} version {outcome.version}: {len(chosen)} symbols, {len(shown):,} rows"
        f" x {len(feature_set.columns)} columns ({complete:,} complete) from "
        f"{shown.index.get_level_values('timestamp').min().date()} to "
        f"{shown.index.get_level_values('timestamp').max().date()}"
    )
    print(
        f"store: {store} ({len(outcome.reused)} symbols reused, {len(outcome.computed)} computed)"
    )
