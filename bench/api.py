"""API latency under load, and how fast the queue hands a new run to an idle worker.

Run: .venv/bin/python bench/api.py [--rate 200] [--seconds 10] [--runs 100] [--workers N]

Starts embedded PostgreSQL and Valkey in a temporary folder (or uses DATABASE_URL / REDIS_URL),
`quant api` and one `quant worker` as real processes, produces a completed momentum_v1 run (5,031
equity points) through the queue, then:
  1. open-loop load at --rate requests/s for --seconds, alternating GET /v1/runs and
     GET /v1/runs/{id}/equity?points=500 (requests are sent on schedule whether or not earlier
     ones have finished, so a slow server shows up as latency, not as a slower generator), and
     the API's CPU seconds (every process of `quant api`, from /proc) per request served: on a
     shared machine that figure moves far less than latency does;
  2. --runs backtests POSTed one after another to an idle worker, timing created_at -> started_at
     with the database's own clock.
Read limits are raised for the load test (QUANT_RATE_LIMIT_READS); everything else is default.
The load generator is a bare asyncio HTTP/1.1 keep-alive client (about a tenth of httpx's CPU per
request), because it shares the two cores with the server it measures.
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


MIN_SAMPLES_FOR_P99 = 100
"""Below this many samples a p99 is just the maximum or next to it: it is not quoted."""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _spread(values: list[float]) -> str:
    """n, p50, p99 (only from enough samples to mean something) and max, in milliseconds."""
    p99 = (
        f"p99 {_percentile(values, 0.99):6.1f} ms"
        if len(values) >= MIN_SAMPLES_FOR_P99
        else f"p99 not quoted (n < {MIN_SAMPLES_FOR_P99})"
    )
    return (
        f"n={len(values):5d}  p50 {statistics.median(values):6.1f} ms  {p99}  "
        f"max {max(values):6.1f} ms"
    )


async def _wait_for(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], status: str
) -> dict:
    for _ in range(1200):
        body = (await client.get(path, headers=headers)).json()
        if body.get("status") == status:
            return body
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{path} never reached {status}")


class _Connection:
    """One HTTP/1.1 keep-alive connection: GET, read the status line, headers and the body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError("the load client reads Content-Length bodies only")
        await self.reader.readexactly(length)
        return status


def _api_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` and its children (uvicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return total


async def _load(
    api: str, headers: dict[str, str], run_id: str, rate: float, seconds: float
) -> dict[str, list[float]]:
    """Open loop: request k leaves at start + k / rate on an idle connection (or a new one)."""
    host, port = api.removeprefix("http://").split(":")
    paths = ["/v1/runs?per_page=20", f"/v1/runs/{run_id}/equity?points=500"]
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    requests = {
        p: f"GET {p} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode("latin-1") for p in paths
    }
    latencies: dict[str, list[float]] = {p: [] for p in paths}
    idle: list[_Connection] = []
    errors = 0

    async def connect() -> _Connection:
        return _Connection(*await asyncio.open_connection(host, port))

    async def one(path: str, scheduled: float) -> None:
        nonlocal errors
        connection = idle.pop() if idle else await connect()
        try:
            status = await connection.get(requests[path])
        except (asyncio.IncompleteReadError, ConnectionError):
            # uvicorn closes keep-alive connections idle for 5 s: reconnect, as any client does
            connection = await connect()
            status = await connection.get(requests[path])
        # from the scheduled send time: a late generator counts against the server, not for it
        latencies[path].append((time.perf_counter() - scheduled) * 1e3)
        if status != 200:
            errors += 1
        idle.append(connection)

    tasks = []
    start = time.perf_counter()
    total = int(rate * seconds)
    for k in range(total):
        scheduled = start + k / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(paths[k % 2], scheduled)))
    await asyncio.gather(*tasks)
    for connection in idle:
        connection.writer.close()
    if errors:
        raise RuntimeError(f"{errors} requests failed")
    return latencies


async def main_async(args: argparse.Namespace, api: str, db: str, api_pid: int) -> None:
    async with httpx.AsyncClient(
        base_url=api, timeout=30, limits=httpx.Limits(max_connections=200)
    ) as client:
        for _ in range(
            1200
        ):  # the API imports its stack and migrates first: seconds on a busy machine
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
        cpu_before = _api_cpu_seconds(api_pid)
        latencies = await _load(api, headers, run_id, args.rate, args.seconds)
        cpu = _api_cpu_seconds(api_pid) - cpu_before
        served = sum(len(values) for values in latencies.values())
        load1, load5, _ = os.getloadavg()
        served_by = "default workers" if args.workers is None else f"--workers {args.workers}"
        print(
            f"\nopen-loop load, {args.rate:.0f} requests/s for {args.seconds:.0f} s "
            f"(quant api {served_by}, same machine; load average {load1:.1f} / {load5:.1f}):"
        )
        for path, values in latencies.items():
            print(f"  GET {path:<42} {_spread(values)}  (target p99 < 50 ms)")
        print(
            f"  API CPU {cpu * 1e3 / served:5.2f} ms per request ({cpu:.2f} s over {served} requests, "
            "every API process)"
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
        print(f"  {_spread(delays)}  (target < 200 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--runs", type=int, default=MIN_SAMPLES_FOR_P99, help="backtests timed (p99 needs 100)"
    )
    parser.add_argument("--workers", type=int, default=None, help="quant api --workers")
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
        workers = [] if args.workers is None else ["--workers", str(args.workers)]
        children = [
            subprocess.Popen(
                [QUANT, "api", "--port", str(port), *workers],
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
            asyncio.run(main_async(args, f"http://127.0.0.1:{port}", db, children[0].pid))
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=30)


if __name__ == "__main__":
    main()
