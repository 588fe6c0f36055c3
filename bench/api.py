"""API latency under load, and how fast the queue hands a new run to an idle worker.

Run: .venv/bin/python bench/api.py [--rate 200] [--seconds 10] [--runs 20]

Starts embedded PostgreSQL and Valkey in a temporary folder (or uses DATABASE_URL / REDIS_URL),
`quant api` and one `quant worker` as real processes, produces a completed momentum_v1 run (5,031
equity points) through the queue, then:
  1. open-loop load at --rate requests/s for --seconds, alternating GET /v1/runs and
     GET /v1/runs/{id}/equity?points=500 (requests are sent on schedule whether or not earlier
     ones have finished, so a slow server shows up as latency, not as a slower generator);
  2. --runs backtests POSTed one after another to an idle worker, timing created_at -> started_at
     with the database's own clock.
Read limits are raised for the load test (QUANT_RATE_LIMIT_READS); everything else is default.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from quant_db.embedded import database_url, redis_url
from quant_db.settings import StorageSettings
from quant_db.urls import asyncpg_dsn

ROOT = Path(__file__).resolve().parents[1]
QUANT = str(Path(sys.executable).parent / "quant")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _wait_for(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], status: str
) -> dict:
    for _ in range(1200):
        body = (await client.get(path, headers=headers)).json()
        if body.get("status") == status:
            return body
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{path} never reached {status}")


async def _load(
    client: httpx.AsyncClient, headers: dict[str, str], run_id: str, rate: float, seconds: float
) -> dict[str, list[float]]:
    paths = ["/v1/runs?per_page=20", f"/v1/runs/{run_id}/equity?points=500"]
    latencies: dict[str, list[float]] = {p: [] for p in paths}
    errors = 0

    async def one(path: str) -> None:
        nonlocal errors
        t0 = time.perf_counter()
        response = await client.get(path, headers=headers)
        if response.status_code != 200:
            errors += 1
        latencies[path].append((time.perf_counter() - t0) * 1e3)

    tasks = []
    start = time.perf_counter()
    total = int(rate * seconds)
    for k in range(total):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(paths[k % 2])))
    await asyncio.gather(*tasks)
    if errors:
        raise RuntimeError(f"{errors} requests failed")
    return latencies


async def main_async(args: argparse.Namespace, api: str, db: str) -> None:
    async with httpx.AsyncClient(
        base_url=api, timeout=30, limits=httpx.Limits(max_connections=200)
    ) as client:
        for _ in range(200):
            try:
                if (await client.get("/v1/health")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        token = (
            await client.post(
                "/v1/auth/login", json={"username": "bench", "password": "bench-password"}
            )
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        made = await client.post(
            "/v1/runs", json={"strategy_id": "momentum_v1", "type": "backtest"}, headers=headers
        )
        run_id = made.json()["id"]
        await _wait_for(client, f"/v1/runs/{run_id}", headers, "completed")
        for _ in range(50):  # warm the connection pool and caches
            await client.get(f"/v1/runs/{run_id}/equity?points=500", headers=headers)
        latencies = await _load(client, headers, run_id, args.rate, args.seconds)
        print(
            f"\nopen-loop load, {args.rate:.0f} requests/s for {args.seconds:.0f} s (one uvicorn process, same machine):"
        )
        for path, values in latencies.items():
            print(
                f"  GET {path:<42} n={len(values):5d}  p50 {statistics.median(values):6.1f} ms  "
                f"p99 {_percentile(values, 0.99):6.1f} ms  max {max(values):6.1f} ms  (target p99 < 50 ms)"
            )

        delays = []
        connection = await asyncpg.connect(asyncpg_dsn(db))
        try:
            for _ in range(args.runs):
                made = await client.post(
                    "/v1/runs",
                    json={"strategy_id": "buy_and_hold", "type": "backtest", "start": "2017-01-01"},
                    headers=headers,
                )
                rid = made.json()["id"]
                await _wait_for(client, f"/v1/runs/{rid}", headers, "completed")
                gap = await connection.fetchval(
                    "SELECT extract(epoch FROM started_at - created_at) FROM runs WHERE id = $1::uuid",
                    rid,
                )
                delays.append(float(gap) * 1e3)
        finally:
            await connection.close()
        print(
            f"\nPOST /v1/runs -> worker starts the job ({args.runs} runs, idle worker, database clock):"
        )
        print(
            f"  p50 {statistics.median(delays):6.1f} ms  p99 {_percentile(delays, 0.99):6.1f} ms  "
            f"max {max(delays):6.1f} ms  (target < 200 ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(f"command: python {' '.join(sys.argv)}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as state:
        settings = StorageSettings(
            database_url=os.environ.get("DATABASE_URL"),
            redis_url=os.environ.get("REDIS_URL"),
            quant_state_dir=Path(state),
        )
        db, cache = database_url(settings), redis_url(settings)
        port = _port()
        env = {
            **os.environ,
            "DATABASE_URL": db,
            "REDIS_URL": cache,
            "QUANT_STATE_DIR": state,
            "QUANT_RATE_LIMIT_READS": "1000000/minute",
            "QUANT_RATE_LIMIT_RUNS": "1000/minute",
            "QUANT_PASSWORD": "bench-password",
        }
        subprocess.run([QUANT, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run(
            [QUANT, "users", "create", "--username", "bench", "--role", "trader"],
            env=env,
            check=True,
            capture_output=True,
        )
        children = [
            subprocess.Popen(
                [QUANT, "api", "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            subprocess.Popen(
                [QUANT, "worker"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        ]
        try:
            asyncio.run(main_async(args, f"http://127.0.0.1:{port}", db))
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=30)


if __name__ == "__main__":
    main()
