"""A real platform for the dashboard's browser tests: PostgreSQL, Valkey, `quant api`, `quant worker`.

Run with the workspace's Python (`/work/main/.venv/bin/python e2e/stack.py`, after `make setup`).
It starts an embedded PostgreSQL and Valkey in a temporary state folder through quant_db.embedded
(or uses QUANT_TEST_DATABASE_URL / QUANT_TEST_REDIS_URL, creating a fresh database there), migrates,
adds the users admin / trader / viewer, ingests the bundled samples, starts the API and one worker
as subprocesses, runs one backtest and one walk-forward run of momentum_v1 to completion through
the API, writes what it started (and how to run the CLI against it) to e2e/.stack/stack.json and stays up until SIGTERM or SIGINT.

Signals: SIGUSR1 stops the API (an outage), SIGUSR2 starts it again on the same port.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
DEFAULT_OUT = HERE / ".stack" / "stack.json"
QUANT = Path(sys.executable).parent / "quant"

USERS = {
    "admin": ("admin", "admin-pass-123"),
    "trader": ("trader", "trader-pass-123"),
    "viewer": ("viewer", "viewer-pass-123"),
}
STRATEGY = "momentum_v1"
# small enough to finish in seconds: 4 combinations over 2 windows of the S&P 500 sample
WALK_FORWARD = {
    "in_sample_days": 730,
    "out_of_sample_days": 365,
    "window_type": "rolling",
    "parameter_grid": {"fast": [10, 20], "slow": [50, 100]},
    "max_windows": 2,
    "min_trades_required": 1,
}
BACKTEST_RANGE = {"start": "2010-01-01", "end": "2018-12-31"}
WALK_FORWARD_RANGE = {"start": "2012-01-01", "end": "2018-12-31"}
RUN_TIMEOUT_S = 180.0
API_START_TIMEOUT_S = 90.0
STOP_GRACE_S = 10.0


def log(message: str) -> None:
    print(f"[stack] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # as uvicorn binds: TIME_WAIT is fine
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# --- storage -------------------------------------------------------------------------------------


async def _autocommit(url: str, *statements: str) -> None:
    from sqlalchemy import text  # noqa: PLC0415 - heavy; only once the stack starts
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def storage(state: Path) -> tuple[str, str, str | None, str]:
    """(database URL, Redis URL, server URL to drop the database from, database name)."""
    from quant_db.embedded import embedded_postgres_url, embedded_redis_url  # noqa: PLC0415

    server = os.environ.get("QUANT_TEST_DATABASE_URL") or embedded_postgres_url(state)
    name = f"dash_e2e_{uuid.uuid4().hex[:10]}"
    asyncio.run(_autocommit(server, f"CREATE DATABASE {name}"))
    redis = os.environ.get("QUANT_TEST_REDIS_URL") or embedded_redis_url(state)
    return with_database(server, name), redis, server, name


async def _create_users(url: str) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: PLC0415

    from quant_api.auth import Passwords  # noqa: PLC0415
    from quant_api.settings import ApiSettings  # noqa: PLC0415
    from quant_api.users import create_user  # noqa: PLC0415
    from quant_db.schema.identity import Role  # noqa: PLC0415

    passwords = Passwords(ApiSettings(_env_file=None))  # type: ignore[call-arg]
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            for role, (username, password) in USERS.items():
                await create_user(
                    session, passwords, username=username, password=password, role=Role(role)
                )
    finally:
        await engine.dispose()


def prepare(url: str) -> None:
    from quant_db.migrate import upgrade  # noqa: PLC0415
    from quant_ingestion import ingest  # noqa: PLC0415
    from quant_marketdata import SampleSource  # noqa: PLC0415

    started = time.monotonic()
    upgrade(url)
    asyncio.run(_create_users(url))
    summary = ingest(SampleSource(), None, url)
    log(
        f"migrated, 3 users, {summary.received:,} sample bars in {time.monotonic() - started:.1f} s"
    )


# --- HTTP ----------------------------------------------------------------------------------------


def call(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise RuntimeError(
            f"{method} {url} -> {error.code}: {error.read().decode()[:500]}"
        ) from None


def api_answers(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/v1/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def run_to_completion(api: str, token: str, body: dict[str, Any]) -> str:
    accepted = call("POST", f"{api}/v1/runs", body, token)
    run_id = str(accepted["id"])
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        run = call("GET", f"{api}/v1/runs/{run_id}", token=token)
        if run["status"] == "completed":
            return run_id
        if run["status"] in ("failed", "cancelled"):
            raise RuntimeError(f"{body['type']} run {run_id} {run['status']}: {run.get('error')}")
        time.sleep(0.5)
    raise RuntimeError(f"{body['type']} run {run_id} did not complete in {RUN_TIMEOUT_S:.0f} s")


# --- processes -----------------------------------------------------------------------------------


class Stack:
    def __init__(self, env: dict[str, str], port: int, logs: Path) -> None:
        self.env, self.port, self.logs = env, port, logs
        self.api: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        out = (self.logs / f"{name}.log").open("ab")
        # a session of its own: a Ctrl-C meant for the test runner reaches us, not the children
        return subprocess.Popen(
            [str(QUANT), *args],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_api(self) -> None:
        if not port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is taken: cannot start the API there")
        self.api = self._spawn("api", ["api", "--host", "127.0.0.1", "--port", str(self.port)])
        deadline = time.monotonic() + API_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.api.poll() is not None:
                code, self.api = self.api.returncode, None
                raise RuntimeError(f"the API exited with {code}; see {self.logs}/api.log")
            if api_answers(self.url):
                return
            time.sleep(0.2)
        self.stop_api()
        raise RuntimeError(f"the API did not answer at {self.url} in {API_START_TIMEOUT_S:.0f} s")

    def stop_api(self) -> None:
        stop(self.api)
        self.api = None

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", ["worker"])

    def stop_all(self) -> None:
        stop(self.api)
        stop(self.worker)


def stop(child: subprocess.Popen[bytes] | None) -> None:
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)  # readers never see half a file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-port", type=int, default=0, help="default: a free port")
    parser.add_argument(
        "--dashboard-origin",
        action="append",
        default=[],
        help="origin the API's CORS list allows (the health page probes the API directly)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where stack.json goes")
    parser.add_argument("--keep-state", action="store_true", help="leave the state folder behind")
    args = parser.parse_args()

    requests = {"stop": False, "outage": False, "restore": False}
    signal.signal(signal.SIGTERM, lambda *_: requests.update(stop=True))
    signal.signal(signal.SIGINT, lambda *_: requests.update(stop=True))
    signal.signal(signal.SIGUSR1, lambda *_: requests.update(outage=True))
    signal.signal(signal.SIGUSR2, lambda *_: requests.update(restore=True))

    args.out.unlink(missing_ok=True)
    state = Path(tempfile.mkdtemp(prefix="quant-e2e-"))
    if not args.keep_state:
        # registered before the embedded servers start, so it runs after their own exit handlers
        atexit.register(shutil.rmtree, state, ignore_errors=True)
    (state / "logs").mkdir()
    port = args.api_port or free_port()
    tag = uuid.uuid4().hex[:8]
    stack: Stack | None = None
    server: str | None = None
    database = ""
    started = time.monotonic()
    try:
        url, redis, server, database = storage(state)
        prepare(url)
        origins = [*args.dashboard_origin, "http://127.0.0.1:3000", "http://localhost:3000"]
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": redis,
            "QUANT_STATE_DIR": str(state),  # the JWT secret lives here: sessions survive an outage
            "QUANT_CORS_ORIGINS": ",".join(origins),
            # every browser test signs in from one address; reads poll from many pages
            "QUANT_RATE_LIMIT_LOGIN": "200/minute",
            "QUANT_RATE_LIMIT_LOGIN_ACCOUNT": "200/minute",
            "QUANT_RATE_LIMIT_READS": "5000/minute",
            "QUANT_RATE_LIMIT_RUNS": "200/minute",
            # a shared Redis (QUANT_TEST_REDIS_URL) must not mix our counters or workers with others'
            "QUANT_RATE_LIMIT_PREFIX": f"quant-e2e-{tag}",
            "QUANT_WORKER_KEY_PREFIX": f"quant-e2e-{tag}:workers",
        }
        # the checkout's own strategies/ folder, as a new user has it (own-strategy.spec.ts)
        for name in (
            "QUANT_TEST_DATABASE_URL",
            "QUANT_TEST_REDIS_URL",
            "QUANT_JWT_SECRET",
            "QUANT_STRATEGIES_PATH",
        ):
            env.pop(name, None)
        # QUANT_PROXY_SECRET stays: playwright.config.ts made it for the dashboard and this API
        if not env.get("QUANT_PROXY_SECRET"):
            log("QUANT_PROXY_SECRET is not set: the API will count sign-ins by the dashboard's address")
        stack = Stack(env, port, state / "logs")
        stack.start_worker()
        stack.start_api()
        log(
            f"{time.monotonic() - started:.1f} s: API at {stack.url} (pid {stack.api.pid if stack.api else '?'}), worker pid {stack.worker.pid if stack.worker else '?'}"
        )

        admin_user, admin_password = USERS["admin"]
        token = call(
            "POST",
            f"{stack.url}/v1/auth/login",
            {"username": admin_user, "password": admin_password},
        )["access_token"]
        backtest = run_to_completion(
            stack.url, token, {"strategy_id": STRATEGY, "type": "backtest", **BACKTEST_RANGE}
        )
        walk_forward = run_to_completion(
            stack.url,
            token,
            {
                "strategy_id": STRATEGY,
                "type": "walk_forward",
                **WALK_FORWARD_RANGE,
                "walk_forward": WALK_FORWARD,
            },
        )
        log(
            f"{time.monotonic() - started:.1f} s: backtest {backtest} and walk-forward {walk_forward} completed"
        )

        def describe() -> dict[str, Any]:
            assert stack is not None
            return {
                "api_url": stack.url,
                "api_port": port,
                "api_up": stack.api is not None,
                "pids": {
                    "stack": os.getpid(),
                    "api": stack.api.pid if stack.api else None,
                    "worker": stack.worker.pid if stack.worker else None,
                },
                "users": {role: {"username": u, "password": p} for role, (u, p) in USERS.items()},
                "runs": {"backtest": backtest, "walk_forward": walk_forward},
                "strategy_id": STRATEGY,
                # what a spec needs to run the CLI against this stack (a paper session)
                "cli": {
                    "quant": str(QUANT),
                    "cwd": str(ROOT),
                    "env": {"DATABASE_URL": url, "REDIS_URL": redis},
                },
                "state_dir": str(state),
                "logs": str(state / "logs"),
                "ready_seconds": round(time.monotonic() - started, 1),
            }

        write_json(args.out, describe())
        log(f"ready in {time.monotonic() - started:.1f} s: {args.out}")
        while not requests["stop"]:
            if requests["outage"]:
                requests["outage"] = False
                stack.stop_api()
                log("API stopped (SIGUSR1)")
                write_json(args.out, describe())
            if requests["restore"]:
                requests["restore"] = False
                if stack.api is None:
                    try:
                        stack.start_api()
                        log("API started again (SIGUSR2)")
                    except RuntimeError as error:  # stay up: the test sees the outage go on
                        stack.api = None
                        log(f"could not start the API again: {error}")
                    write_json(args.out, describe())
            if stack.worker is not None and stack.worker.poll() is not None:
                raise RuntimeError(f"the worker exited with {stack.worker.returncode}")
            if stack.api is not None and stack.api.poll() is not None:
                raise RuntimeError(f"the API exited with {stack.api.returncode}")
            time.sleep(0.1)
        return 0
    except Exception as error:
        log(f"failed: {error}")
        for name in ("api", "worker"):
            path = state / "logs" / f"{name}.log"
            if path.exists():
                log(
                    f"last lines of {name}.log:\n"
                    + "".join(path.read_text(errors="replace").splitlines(True)[-30:])
                )
        return 1
    finally:
        if stack is not None:
            stack.stop_all()
        args.out.unlink(missing_ok=True)
        if server is not None and os.environ.get("QUANT_TEST_DATABASE_URL"):
            try:
                asyncio.run(_autocommit(server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            except Exception as error:  # cleanup must not hide the real outcome
                log(f"could not drop {database}: {error}")
        log("stopped")


if __name__ == "__main__":
    sys.exit(main())
