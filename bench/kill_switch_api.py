"""The kill switch through the API: `PUT /v1/controls/kill-switch {"mode": "halt_entries"}` on a
real API process, while a paper session trades a replay at speed -> how long after the API's
answer does the last new entry still get accepted by the paper broker?

Run: .venv/bin/python bench/kill_switch_api.py [--trials 50] [--interval-ms 5]
Embedded PostgreSQL and Valkey in a temporary folder (or DATABASE_URL / REDIS_URL), the API as a
`quant api` process on a free 127.0.0.1 port, bounded in trials. The paper runner (the execution
service's) trades a one-symbol replay published every --interval-ms with a strategy that enters
on every other step (long, flat, long, ...), so entries flow until the switch stops them. Each
trial: release to `active` through the API, let entries flow for 100 ms, then `halt_entries`
through the API; the latency is the time from the API's answer to the last entry sent to the
paper broker afterwards (0 when none was). The target (issue 12): p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _machine import describe, load_average
from paper_latency import Rotate, _pct
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from quant_bus.redis_bus import RedisBus
from quant_bus.streams import BARS_CLOSED, BarClosedEvent
from quant_db import controls
from quant_db.embedded import database_url, redis_url
from quant_db.journal import PostgresJournal
from quant_db.migrate import upgrade
from quant_db.schema import Run, Strategy
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_db.settings import StorageSettings
from quant_domain import KillSwitchMode, Order, OrderSide
from quant_engine import BacktestConfig
from quant_engine.paper import PaperSession
from quant_execution.paper_runner import PaperRunner
from quant_strategy import StrategyConfig, build_strategy

__all__ = ["Rotate"]  # the strategy class the config names (`__main__:Rotate`)
USER, PASSWORD = "bench-admin", "a long bench password 42"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    quant = str(Path(sys.executable).parent / "quant")
    subprocess.run(
        [quant, "users", "create", "--username", USER, "--role", "admin"],
        env={**env, "QUANT_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )
    port = _free_port()
    api = subprocess.Popen(
        [quant, "api", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code < 500:
                return api, base
        except httpx.HTTPError:
            time.sleep(0.2)
    api.kill()
    raise SystemExit("the API did not start within 60 s")


class EntryLog:
    """When each entry order reached the paper broker (the broker's `submit`, which the risk
    gate's refusals never reach)."""

    def __init__(self, session: PaperSession) -> None:
        self.sent: list[float] = []
        submit = session.broker.submit

        def timed(order: Order) -> None:
            if order.side is OrderSide.BUY:
                self.sent.append(time.perf_counter())
            submit(order)

        session.broker.submit = timed  # type: ignore[method-assign]

    def entries(self) -> list[float]:
        return list(self.sent)

    def last_after(self, moment: float) -> float:
        """Seconds from `moment` to the last entry sent after it (0.0 when none was)."""
        late = [t for t in self.sent if t > moment]
        return max(late) - moment if late else 0.0


async def publish_forever(bus: RedisBus, feed: str, interval: float, stop: asyncio.Event) -> None:
    """One bar of S000 every `interval` seconds until `stop` (the replay, at speed)."""
    stamp = datetime(2024, 3, 4, tzinfo=UTC)
    n = 0
    while not stop.is_set():
        await bus.publish(
            BARS_CLOSED,
            BarClosedEvent(
                idempotency_key=f"{feed}:{n}",
                symbol="S000",
                timeframe="1m",
                timestamp=stamp + timedelta(minutes=n),
                open=100.0,
                high=100.0,
                low=100.0,
                close=100.0,
                volume=1.0,
                source=feed,
                bars_in_step=1,
            ),
        )
        n += 1
        await asyncio.sleep(interval)


async def trial_loop(client: httpx.AsyncClient, log: EntryLog, trials: int) -> dict[str, Any]:
    async def put(to: KillSwitchMode, why: str) -> None:
        answer = await client.put(
            "/v1/controls/kill-switch", json={"mode": to.value, "reason": why}
        )
        answer.raise_for_status()

    after_answer: list[float] = []
    after_request: list[float] = []
    flowing: list[int] = []
    for i in range(trials):
        await put(KillSwitchMode.ACTIVE, f"bench trial {i}: entries flow")
        before = len(log.entries())
        await asyncio.sleep(0.1)
        flowing.append(len(log.entries()) - before)
        requested = time.perf_counter()
        await put(KillSwitchMode.HALT_ENTRIES, f"bench trial {i}: halt")
        answered = time.perf_counter()
        await asyncio.sleep(0.3)  # long enough for any straggler to show
        after_answer.append(log.last_after(answered))
        after_request.append(log.last_after(requested))
    return {"latencies": after_answer, "from_request": after_request, "flowing": flowing}


async def measure(url: str, cache: str, base: str, trials: int, interval: float) -> dict[str, Any]:
    config = StrategyConfig.model_validate(
        {"id": "rotate_kill", "class": "__main__:Rotate", "universe": ["S000"]}
    )
    engine = create_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = RedisBus.from_url(cache)
    client = httpx.AsyncClient(base_url=base, timeout=10)
    try:
        login = await client.post("/v1/auth/login", json={"username": USER, "password": PASSWORD})
        login.raise_for_status()
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        async with sessions.begin() as db:
            db.add(Strategy(id=config.id, class_path="x:Y", config={}, mode=Mode.PAPER))
            await db.flush()
            run = Run(
                strategy_id=config.id, type=RunType.PAPER, status=RunStatus.RUNNING, config={}
            )
            db.add(run)
        session = PaperSession(
            build_strategy(config),
            BacktestConfig(initial_capital=10_000_000),
            daily=False,
            account="bench",
            journal=PostgresJournal(sessions, run.id, asyncio.get_running_loop()),
        )
        log = EntryLog(session)

        async def mode() -> KillSwitchMode:
            async with sessions() as db:
                return KillSwitchMode((await controls.kill_switch(db)).mode)

        feed = f"bench:{run.id}"
        runner = PaperRunner(
            bus,
            session,
            group=f"bench-{run.id}",
            name="runner",
            kill_switch=mode,
            source=feed,
            block_ms=5,
        )
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(runner.run(stop)),
            asyncio.create_task(runner.watch_kill_switch(stop)),
            asyncio.create_task(publish_forever(bus, feed, interval, stop)),
        ]
        await asyncio.sleep(0.5)
        try:
            got = await trial_loop(client, log, trials)
        finally:
            stop.set()
            for task in tasks:
                await task
        return {**got, "steps": runner.processed}
    finally:
        await client.aclose()
        await bus.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--interval-ms", type=float, default=5.0)
    args = parser.parse_args()
    print(f"command: {' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}")
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as state:
        settings = StorageSettings(
            database_url=os.environ.get("DATABASE_URL"),
            redis_url=os.environ.get("REDIS_URL"),
            quant_state_dir=Path(state),
        )
        url, cache = database_url(settings), redis_url(settings)
        upgrade(url)
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": cache, "QUANT_STATE_DIR": state}
        api, base = start_api(env)
        try:
            got = asyncio.run(measure(url, cache, base, args.trials, args.interval_ms / 1000))
        finally:
            api.terminate()
            api.wait(timeout=30)
    lat = got["latencies"]
    late = sum(1 for x in lat if x > 0)
    print(
        f"trials {len(lat)}, steps traded {got['steps']}, entries sent in the 100 ms before "
        f"each halt: median {statistics.median(got['flowing']):.0f}"
    )
    print(
        f"API answer -> last entry sent after it: p50 {_pct(lat, 0.5):.1f} ms, "
        f"p99 {_pct(lat, 0.99):.1f} ms, max {max(lat) * 1000:.1f} ms "
        f"({late} of {len(lat)} trials had an entry after the answer)"
    )
    req = got["from_request"]
    print(
        f"API request sent -> last entry sent after it: p50 {_pct(req, 0.5):.1f} ms, "
        f"p99 {_pct(req, 0.99):.1f} ms, max {max(req) * 1000:.1f} ms (the request's own time "
        "included: commit, broadcast, answer)"
    )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
