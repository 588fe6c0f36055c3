"""PostgreSQL storage: COPY ingest rate and the time to read 10 years of daily bars for 100 symbols.

Run: .venv/bin/python bench/storage.py [--symbols 100] [--bars 2520] [--repeat 5] [--profile]
Uses DATABASE_URL when set, else an embedded server in a temporary folder (never your .quant/).
Synthetic data (SyntheticSource, seed 3, prices quoted to 4 decimals as PostgreSQL storage
requires, ADR 0012): 100 symbols x 2,520 business days = 252,000 bars. Also prints the client's
own CPU seconds during the ingest (the server is another process), the symbols catalogue against
the GROUP BY scan over every bar it replaced, and with --profile the ingest's costliest functions
in this process (cProfile, which slows the calls it counts).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _machine import describe, load_average
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from quant_api.price_bars import catalogue
from quant_backtest.db_source import DatabaseSource
from quant_db.embedded import embedded_postgres_url
from quant_db.migrate import upgrade
from quant_domain import Instrument
from quant_ingestion import ingest
from quant_marketdata import CachedSource, RawBars, SyntheticSource


class Pregenerated(CachedSource):
    """The synthetic bars generated once, so the ingest timings leave generation out."""

    def __init__(self, source: SyntheticSource) -> None:
        super().__init__()
        self.name = source.name
        self._source = source
        self._raw = {symbol: source.raw_bars(symbol) for symbol in source.symbols()}

    def symbols(self) -> list[str]:
        return list(self._raw)

    def instrument(self, symbol: str) -> Instrument:
        return self._source.instrument(symbol)

    def raw_bars(self, symbol: str) -> RawBars:
        return self._raw[symbol]


# what GET /v1/symbols ran before it counted from price_blocks: a scan of every stored bar
_SCAN = text(
    "SELECT symbol, timeframe, min(ts), max(ts), count(*) AS bars "
    "FROM price_bars GROUP BY symbol, timeframe"
)


async def _catalogue_times(url: str, repeat: int, expected: int) -> tuple[list[float], list[float]]:
    """Seconds per read of the symbols catalogue (GET /v1/symbols' query), then of the scan."""
    engine = create_async_engine(url)
    times: tuple[list[float], list[float]] = ([], [])
    try:
        async with AsyncSession(engine) as session:
            for _ in range(repeat):
                t0 = time.perf_counter()
                entries = await catalogue(session)
                times[0].append(time.perf_counter() - t0)
                assert sum(entry.bars for entry in entries) == expected
            for _ in range(repeat):
                t0 = time.perf_counter()
                rows = (await session.execute(_SCAN)).all()
                times[1].append(time.perf_counter() - t0)
                assert sum(row.bars for row in rows) == expected
    finally:
        await engine.dispose()
    return times


def _print_profile(profile: cProfile.Profile) -> None:
    print("\nthe first ingest's costliest functions in this process (cProfile, own time):")
    stats = pstats.Stats(profile)
    stats.sort_stats(pstats.SortKey.TIME).print_stats(12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--bars", type=int, default=2_520)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile the first ingest")
    args = parser.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as state:
        url = os.environ.get("DATABASE_URL") or embedded_postgres_url(Path(state))
        upgrade(url)
        # generated up front: the benchmark times loading, not generating
        source = Pregenerated(
            SyntheticSource(seed=3, n_symbols=args.symbols, n_bars=args.bars, decimals=4)
        )
        symbols = source.symbols()
        total = args.symbols * args.bars
        reader = DatabaseSource(url)
        held = sorted(set(symbols) & set(reader.symbols()))
        if held:
            # the ingest timing means nothing if the bars are already there
            print(
                f"bench/storage.py: DATABASE_URL already holds bars for {len(held)} of the "
                f"synthetic symbols ({held[0]}, ...); point it at an empty database",
                file=sys.stderr,
            )
            sys.exit(2)

        profile = cProfile.Profile() if args.profile else None
        t0, cpu0 = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        first = ingest(source, symbols, url)
        if profile:
            profile.disable()
        cold, client_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        t0 = time.perf_counter()
        again = ingest(source, symbols, url)
        warm = time.perf_counter() - t0
        assert first.inserted == total
        assert again.unchanged == total

        reader = DatabaseSource(url)
        reader.symbols()
        reads = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            frames = reader.get_many(symbols)
            reads.append(time.perf_counter() - t0)
        assert sum(len(f) for f in frames.values()) == total
        listing, scan = asyncio.run(_catalogue_times(url, args.repeat, total))

        print(
            f"\n{args.symbols} symbols x {args.bars:,} daily bars = {total:,} bars, server {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded PostgreSQL 18'}:"
        )
        print(
            f"  ingest (validate + COPY + merge), new bars     {cold:.2f} s -> {total / cold:,.0f} bars/s  (target >= 200,000)"
        )
        print(
            f"    of which this process's own CPU              {client_cpu:.2f} s (validation, COPY encoding; the server's is not counted)"
        )
        print(
            f"  ingest again, nothing changes                  {warm:.2f} s -> {total / warm:,.0f} bars/s"
        )
        print(
            f"  read all {args.symbols} symbols (year blocks) best {min(reads) * 1e3:.0f} ms, "
            f"median {statistics.median(reads) * 1e3:.0f} ms  ({args.repeat} reads; target < 100 ms)"
        )
        print(
            f"  symbols catalogue (GET /v1/symbols' query)   best {min(listing) * 1e3:.1f} ms, "
            f"median {statistics.median(listing) * 1e3:.1f} ms  ({args.repeat} reads)"
        )
        print(
            f"  the GROUP BY scan it replaced                  best {min(scan) * 1e3:.1f} ms, "
            f"median {statistics.median(scan) * 1e3:.1f} ms  ({args.repeat} reads)"
        )
        print(f"load average after: {load_average()}")
    if profile:
        _print_profile(profile)


if __name__ == "__main__":
    main()
