"""PostgreSQL storage: COPY ingest rate and the time to read 10 years of daily bars for 100 symbols.

Run: .venv/bin/python bench/storage.py [--symbols 100] [--bars 2520]
Uses DATABASE_URL when set, else an embedded server in a temporary folder (never your .quant/).
Synthetic data (SyntheticSource, seed 3, prices quoted to 4 decimals as PostgreSQL storage
requires, ADR 0012): 100 symbols x 2,520 business days = 252,000 bars.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

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


async def _catalogue_times(url: str, repeat: int, expected: int) -> list[float]:
    """Seconds per read of the symbols catalogue (the query behind GET /v1/symbols)."""
    engine = create_async_engine(url)
    times = []
    try:
        async with AsyncSession(engine) as session:
            for _ in range(repeat):
                t0 = time.perf_counter()
                entries = await catalogue(session)
                times.append(time.perf_counter() - t0)
                assert sum(entry.bars for entry in entries) == expected
    finally:
        await engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--bars", type=int, default=2_520)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"command: python {' '.join(sys.argv)}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
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

        t0 = time.perf_counter()
        first = ingest(source, symbols, url)
        cold = time.perf_counter() - t0
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
        listing = asyncio.run(_catalogue_times(url, args.repeat, total))

        print(
            f"\n{args.symbols} symbols x {args.bars:,} daily bars = {total:,} bars, server {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded PostgreSQL 18'}:"
        )
        print(
            f"  ingest (validate + COPY + merge), new bars     {cold:.2f} s -> {total / cold:,.0f} bars/s  (target >= 200,000)"
        )
        print(
            f"  ingest again, nothing changes                  {warm:.2f} s -> {total / warm:,.0f} bars/s"
        )
        print(
            f"  read all {args.symbols} symbols (year blocks) best {min(reads) * 1e3:.0f} ms, "
            f"median {statistics.median(reads) * 1e3:.0f} ms  (target < 100 ms)"
        )
        print(
            f"  symbols catalogue (GET /v1/symbols' query)   best {min(listing) * 1e3:.1f} ms, "
            f"median {statistics.median(listing) * 1e3:.1f} ms"
        )


if __name__ == "__main__":
    main()
