"""`quant up`: the whole platform on this machine (API, workers, dashboard), stopped cleanly by Ctrl-C."""

# ruff: noqa: PLC0415 - the database, ingestion and strategies load when the command runs, not for --help
from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from quant_cli.errors import user_errors
from quant_cli.execution_cmd import DEFAULT_FEED
from quant_db.embedded import EmbeddedKeeper, redis_url
from quant_db.settings import get_settings

if TYPE_CHECKING:
    import asyncpg

    from quant_cli.demo_runs import DemoRun

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"  # local demo only; printed on screen, never used in production
STOP_GRACE_S = 10.0
PAPER_READY_S = 60.0
DASHBOARD_READY_S = 60.0
NODE_ENV = {"NEXT_TELEMETRY_DISABLED": "1"}
PROXY_SECRET_ENV = "QUANT_PROXY_SECRET"


def proxy_secret(state_dir: Path) -> str:
    """QUANT_PROXY_SECRET, or one generated into the state folder once (0600), like the JWT
    secret: the API and the dashboard both get it, so sign-ins are counted per browser."""
    from quant_api.settings import PROXY_SECRET_FILE, kept_secret

    return os.environ.get(PROXY_SECRET_ENV) or kept_secret(state_dir / PROXY_SECRET_FILE)


def _quant() -> str:
    return str(Path(sys.executable).parent / "quant")


async def _connect(url: str) -> asyncpg.Connection:
    import asyncpg

    from quant_db.urls import asyncpg_dsn

    return await asyncpg.connect(asyncpg_dsn(url))


async def _save_report(url: str, run_id: str, path: Path) -> Path | None:
    connection = await _connect(url)
    try:
        blob = await connection.fetchval(
            "SELECT html_gzip FROM run_reports WHERE run_id::text = $1", run_id
        )
    finally:
        await connection.close()
    if blob is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.decompress(bytes(blob)))
    return path


async def _statuses(url: str, ids: list[str]) -> list[Any]:
    connection = await _connect(url)
    try:
        return list(
            await connection.fetch(
                "SELECT id::text, strategy_id, status, metrics, error FROM runs WHERE id::text = ANY($1::text[])",
                ids,
            )
        )
    finally:
        await connection.close()


def _demo(url: str, env: dict[str, str], folder: Path) -> list[DemoRun]:
    from quant_ingestion import ingest
    from quant_marketdata import SampleSource

    summary = ingest(SampleSource(), None, url)
    typer.echo(
        f"demo data: {summary.received:,} sample bars ({summary.inserted:,} new) in PostgreSQL"
    )
    created = subprocess.run(
        [_quant(), "users", "create", "--username", DEMO_USER, "--role", "admin"],
        env={**env, "QUANT_PASSWORD": DEMO_PASSWORD},
        capture_output=True,
        text=True,
        check=False,
    )
    if created.returncode not in (0, 2):  # 2: the demo user already exists
        raise typer.Exit(created.returncode)
    from quant_cli.demo_runs import queue_demo_runs

    runs = asyncio.run(queue_demo_runs(url, folder))
    for run in runs:
        if run.reused is None:
            typer.echo(f"demo backtest: {run.strategy_id} queued as run {run.run_id}")
        else:
            typer.echo(
                f"demo backtest: {run.strategy_id} not queued again; showing run {run.run_id} "
                f"({run.reused})"
            )
    return runs


def _report_demo(
    url: str, runs: list[DemoRun], api: str, deadline: float, children: list[Any]
) -> None:
    ids = [run.run_id for run in runs]
    while time.monotonic() < deadline and all(c.poll() is None for c in children):
        rows = asyncio.run(_statuses(url, ids))
        if rows and all(r["status"] in ("completed", "failed", "cancelled") for r in rows):
            for r in rows:
                metrics = (
                    json.loads(r["metrics"]) if isinstance(r["metrics"], str) else r["metrics"]
                )
                if r["status"] == "completed":
                    saved = asyncio.run(
                        _save_report(
                            url, r["id"], Path("reports") / r["strategy_id"] / "report.html"
                        )
                    )
                    typer.echo(
                        f"  {r['strategy_id']:<14} total return {metrics['total_return']:>8.2%}  "
                        f"Sharpe {metrics['sharpe']:>5.2f}  max drawdown {metrics['max_drawdown_pct']:>7.2%}\n"
                        f"  {'':<14} report file://{saved.resolve() if saved else '(not stored)'}\n"
                        f"  {'':<14} API    {api}/v1/runs/{r['id']}/report (signed in)"
                    )
                else:
                    typer.echo(f"  {r['strategy_id']:<14} {r['status']}: {r['error']}")
            return
        time.sleep(0.5)


def dashboard_built(folder: Path) -> bool:
    """True when `folder` holds a production build that `next start` can serve."""
    return (folder / ".next" / "BUILD_ID").is_file() and (
        folder / "node_modules" / ".bin" / "next"
    ).exists()


def build_dashboard(folder: Path) -> bool:
    """`npm install` + `next build` in `folder` (said on screen: it takes a minute or two)."""
    npm = shutil.which("npm")
    if npm is None:
        typer.echo(
            "dashboard: skipped, npm was not found (install Node.js 20+ to get the dashboard)"
        )
        return False
    typer.echo(
        f"dashboard: no production build in {folder}/.next yet: npm install + next build (1-3 min)"
    )
    folder = folder.resolve()  # the steps run inside it, so their paths must not be relative
    env = {**os.environ, **NODE_ENV}
    env.pop("NEXT_DIST_DIR", None)  # `next start` below serves .next
    for step in (
        [npm, "install", "--no-audit", "--no-fund", "--no-save", "--loglevel=error"],
        [str(folder / "node_modules" / ".bin" / "next"), "build"],
    ):
        try:
            failed = subprocess.run(step, cwd=folder, env=env, check=False).returncode != 0
        except OSError as exc:
            failed = True
            typer.echo(f"dashboard: {exc}")
        if failed:
            typer.echo(f"dashboard: `{Path(step[0]).name} {step[1]}` failed; continuing without it")
            return False
    return True


def start_dashboard(
    folder: Path, host: str, port: int, api: str, secret: str | None = None
) -> subprocess.Popen[bytes]:
    """`next start` in a process group of its own, so stopping it also stops its next-server child.

    `secret` is the proxy secret the API expects with a browser's address (ADR 0016).
    """
    folder = folder.resolve()  # `next` runs inside the folder, so its path must not be relative
    env = {**os.environ, **NODE_ENV, "QUANT_API_URL": api}
    if secret:
        env[PROXY_SECRET_ENV] = secret
    env.pop("NEXT_DIST_DIR", None)
    return subprocess.Popen(
        [str(folder / "node_modules" / ".bin" / "next"), "start", "-p", str(port), "-H", host],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_until_serving(url: str, child: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def stop_group(child: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the child's process group, then SIGKILL whatever is left after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)  # stragglers of the group (next-server)
    child.wait()


def _dashboard_ready(folder: Path) -> bool:
    """True when the dashboard in `folder` has a production build, making one if it must."""
    if not folder.is_dir():
        typer.echo(f"dashboard: skipped, {folder} not found (run from the repository root)")
        return False
    return dashboard_built(folder) or build_dashboard(folder)


def _serve_dashboard(
    folder: Path, host: str, port: int, api: str, secret: str
) -> subprocess.Popen[bytes] | None:
    """`next start`, once it answers; None (said on screen) when it cannot run or never answers."""
    web = f"http://{host}:{port}"
    try:
        child = start_dashboard(folder, host, port, api, secret)
    except OSError as exc:  # a broken install must not take the API and workers down
        typer.echo(f"dashboard: `next start` could not run ({exc}); continuing without it")
        return None
    if not wait_until_serving(f"{web}/api/health", child, DASHBOARD_READY_S):
        typer.echo(f"dashboard: `next start` did not answer at {web}; continuing without it")
        stop_group(child, STOP_GRACE_S)
        return None
    return child


def _stop_children(
    children: list[subprocess.Popen[bytes]], web_child: subprocess.Popen[bytes] | None
) -> None:
    """The dashboard's group first, then the API and workers: SIGTERM, then SIGKILL at the grace."""
    if web_child is not None:
        stop_group(web_child, STOP_GRACE_S)
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _demo_paper(
    url: str, env: dict[str, str], children: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes] | None:
    """Move momentum_v1 to PAPER, wait for the execution service to open its session, then start
    the data service's replay of the samples it trades (None if the session did not open)."""
    from quant_cli.demo_runs import (
        DEMO_PAPER_STRATEGY,
        DEMO_REPLAY,
        DEMO_SPEED,
        paper_session_ready,
        start_demo_paper,
    )

    moved = asyncio.run(start_demo_paper(url))
    deadline = time.monotonic() + PAPER_READY_S
    session = None
    while (
        session is None and time.monotonic() < deadline and all(c.poll() is None for c in children)
    ):
        session = asyncio.run(paper_session_ready(url))
        if session is None:
            time.sleep(0.25)
    if session is None:
        typer.echo(
            f"demo paper: {DEMO_PAPER_STRATEGY}'s paper session did not open within "
            f"{PAPER_READY_S:.0f} s; see the execution service's log above",
            err=True,
        )
        return None
    typer.echo(
        f"demo paper: {DEMO_PAPER_STRATEGY} "
        + ("moved to PAPER; " if moved else "was in PAPER already; ")
        + f"session {session} trades a replay of SP500 {DEMO_REPLAY} at a trading day a "
        "second (Positions and Orders pages; its strategy page charts its equity)"
    )
    return subprocess.Popen(
        [
            _quant(),
            "data",
            "replay",
            DEMO_REPLAY,
            "--symbols",
            "SP500",
            "--speed",
            DEMO_SPEED,
            "--feed",
            DEFAULT_FEED,
            "--data",
            "db",
        ],
        env=env,
    )


@user_errors
def up_command(
    host: Annotated[str, typer.Option(help="API host")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="API port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=16, help="worker processes")] = 1,
    demo: Annotated[
        bool, typer.Option(help="ingest the samples, add a demo login, queue demo backtests")
    ] = False,
    strategies: Annotated[Path, typer.Option(help="strategy configs folder")] = Path(
        "configs/strategies"
    ),
    dashboard: Annotated[bool, typer.Option(help="also serve the Next.js dashboard")] = True,
    dashboard_port: Annotated[
        int, typer.Option(min=1, max=65535, help="dashboard port (on the API's host)")
    ] = 3000,
    dashboard_dir: Annotated[Path, typer.Option(help="the dashboard app")] = Path("apps/dashboard"),
    trading: Annotated[
        bool,
        typer.Option(
            help="also start the execution service (paper sessions for the strategies in PAPER "
            "mode); with --demo, a replay of the samples for momentum_v1 to trade"
        ),
    ] = True,
) -> None:
    """Start the API, the workers and the dashboard on the embedded defaults (or DATABASE_URL / REDIS_URL)."""
    from quant_db.migrate import migrated_url
    from quant_db.urls import redacted

    settings = get_settings()
    url, cache = migrated_url(settings), redis_url(settings)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": cache,
        # the dashboard names each browser's address to the API with it (ADR 0016)
        PROXY_SECRET_ENV: proxy_secret(settings.quant_state_dir),
    }
    web = f"http://{host}:{dashboard_port}"
    if dashboard:
        # the health page probes the API straight from the browser: allow the dashboard's origin
        env.setdefault("QUANT_CORS_ORIGINS", f"{web},http://localhost:{dashboard_port}")
    runs = _demo(url, env, strategies) if demo else []
    api = f"http://{host}:{port}"
    serve_dashboard = dashboard and _dashboard_ready(dashboard_dir)
    stop = {"now": False}

    def request_stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    children = [subprocess.Popen([_quant(), "api", "--host", host, "--port", str(port)], env=env)]
    # one default /metrics port per machine: the first worker takes it, the others any free one
    children += [
        subprocess.Popen([_quant(), "worker", *(["--metrics-port", "0"] if i else [])], env=env)
        for i in range(workers)
    ]
    # the monitoring service watches everything (heartbeats, failed runs, alerts to channels)
    children.append(subprocess.Popen([_quant(), "monitoring", "run"], env=env))
    if trading:
        children.append(
            subprocess.Popen([_quant(), "execution", "run", "--feed", DEFAULT_FEED], env=env)
        )
        # the risk policy's breakers over the paper sessions' equity (inert until a policy is
        # applied: `quant risk apply configs/risk/default.yaml`)
        children.append(subprocess.Popen([_quant(), "risk", "run"], env=env))
    web_child = (
        _serve_dashboard(dashboard_dir, host, dashboard_port, api, env[PROXY_SECRET_ENV])
        if serve_dashboard
        else None
    )
    typer.echo(
        f"\nquant platform is up (Ctrl-C stops everything)\n"
        f"  API          {api}/v1   health {api}/v1/health\n"
        f"  API docs     {api}/docs   OpenAPI {api}/v1/openapi.json\n"
        + (f"  dashboard    {web}\n" if web_child is not None else "")
        + f"  workers      {workers}\n"
        + "  monitoring   alert rules and channels (configs/alerts/channels.yaml)\n"
        + (
            f"  trading      execution service: paper sessions for the strategies in PAPER mode, "
            f"on feed {DEFAULT_FEED!r}\n"
            "               (no live feed until a broker is connected: `quant data replay FROM..TO` "
            "publishes stored bars)\n"
            "  risk         risk service: the breakers of the policy in force "
            "(none until `quant risk apply`)\n"
            if trading
            else "  trading      off (--no-trading): strategies in PAPER mode do not trade\n"
        )
        + f"  database     {redacted(url)}\n  redis        {cache}\n"
        + (f"  demo login   {DEMO_USER} / {DEMO_PASSWORD}\n" if demo else "")
    )
    replay_child = _demo_paper(url, env, children) if demo and trading else None
    if runs:
        typer.echo("demo backtests (new ones run through the queue):")
        _report_demo(url, runs, api, time.monotonic() + 300, children)
    # the API and workers were handed the URLs, so only this process can restart an embedded one
    keeper = EmbeddedKeeper(settings, say=lambda line: typer.echo(line, err=True))
    while not stop["now"] and all(c.poll() is None for c in children):
        time.sleep(0.2)
        keeper.check()
    crashed = [c for c in children if c.poll() not in (None, 0, -signal.SIGTERM)]
    if replay_child is not None and replay_child.poll() is None:
        replay_child.terminate()
        replay_child.wait()
    _stop_children(children, web_child)
    typer.echo(
        "stopped: API, workers, monitoring"
        + (", the execution and risk services" if trading else "")
        + (" (and the dashboard)" if web_child is not None else "")
        + (" (a process exited unexpectedly)" if crashed else "")
    )
    if crashed:
        raise typer.Exit(1)
