"""How fast can the server itself insert 252,000 bar rows? (no client, no merge, no validation)

Run: .venv/bin/python bench/storage_ceiling.py
Embedded PostgreSQL in a temporary folder (or DATABASE_URL). INSERT ... SELECT from a table of
random float8 bars into four layouts: NUMERIC prices with generated float8 twins (the schema
before ADR 0012), NUMERIC only, NUMERIC with plain float8 copies, and float8 only (the schema
since ADR 0012). Each layout is timed on
its second run, so table creation and cold caches do not count.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import asyncpg
from _machine import describe, load_average

from quant_db.embedded import embedded_postgres_url
from quant_db.urls import asyncpg_dsn

ROWS = 252_000
PRICES = "open numeric, high numeric, low numeric, close numeric, volume numeric"
TWINS = ", ".join(
    f"{c}_f float8 GENERATED ALWAYS AS ({c}::float8) STORED"
    for c in ("open", "high", "low", "close", "volume")
)
COPIES = "open_f float8, high_f float8, low_f float8, close_f float8, volume_f float8"
FLOATS = "open float8, high float8, low float8, close float8, volume float8"
LAYOUTS = {
    "NUMERIC + generated float8 twins": (f"{PRICES}, {TWINS}", False),
    "NUMERIC only": (PRICES, False),
    "NUMERIC + plain float8 copies": (f"{PRICES}, {COPIES}", True),
    "float8 only (ADR 0012)": (FLOATS, False),
}


async def measure(url: str) -> dict[str, float]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    rates: dict[str, float] = {}
    try:
        await connection.execute(
            "CREATE TEMP TABLE source AS SELECT (g % 100) AS k, now() + g * interval '1 second' AS ts, "
            "random() * 100 + 1 AS o, random() * 100 + 1 AS h, random() * 100 + 1 AS l, "
            f"random() * 100 + 1 AS c, random() * 1e6 AS v FROM generate_series(1, {ROWS}) AS g"
        )
        for name, (columns, copies) in LAYOUTS.items():
            target = "k, ts, open, high, low, close, volume"
            cast = "" if columns == FLOATS else "::numeric"
            values = f"k, ts, o{cast}, h{cast}, l{cast}, c{cast}, v{cast}"
            if copies:
                target += ", open_f, high_f, low_f, close_f, volume_f"
                values += ", o, h, l, c, v"
            elapsed = 0.0
            for _ in range(2):
                await connection.execute("DROP TABLE IF EXISTS bars_ceiling")
                await connection.execute(
                    f"CREATE TABLE bars_ceiling (k int, ts timestamptz, {columns}, PRIMARY KEY (k, ts))"
                )
                started = time.perf_counter()
                await connection.execute(
                    f"INSERT INTO bars_ceiling ({target}) SELECT {values} FROM source"
                )
                elapsed = time.perf_counter() - started
            rates[name] = ROWS / elapsed
        await connection.execute("DROP TABLE IF EXISTS bars_ceiling")
    finally:
        await connection.close()
    return rates


def main() -> None:
    warnings.simplefilter("ignore")  # the embedded server's runtime-dir notice
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as state:
        url = os.environ.get("DATABASE_URL") or embedded_postgres_url(Path(state))
        rates = asyncio.run(measure(url))
    print(f"\nserver-side INSERT ... SELECT of {ROWS:,} rows:")
    for name, rate in rates.items():
        print(f"  {name:34s} {rate:10,.0f} rows/s")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
