# ruff: noqa: PLC0415 - SQLAlchemy, the engine and the service load when a command runs
"""`quant risk`: the risk policy in force, changing it, re-arming the breakers, the risk service.

`show`, `apply` and `rearm` work straight on the database (like `quant kill-switch`), so they
need neither the API nor Redis, only an active admin to answer for a change, which is audited
as the API's are (`via: cli`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from quant_cli.database import cli_request_id, cli_via, in_session
from quant_cli.errors import user_errors
from quant_cli.metrics_options import (
    DEFAULT_HOST,
    DEFAULT_PORTS,
    MetricsHostOption,
    RiskMetricsPort,
    start_metrics,
)
from quant_domain import QuantError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from quant_db.schema import User

risk_app = typer.Typer(
    help="The risk policy, its breakers, and the risk service.", no_args_is_help=True
)

Reason = Annotated[str, typer.Option(help="why; recorded with the change and in the audit log")]
AsUser = Annotated[
    str, typer.Option("--user", help="an active admin's username, recorded as who did it")
]


class OperatorError(QuantError):
    """The change cannot be made as asked (no reason, not an admin)."""


async def _admin(session: AsyncSession, username: str, reason: str) -> User:
    from sqlalchemy import select

    from quant_db.schema import User
    from quant_db.schema.identity import Role

    if not reason.strip():
        raise OperatorError("--reason: say why (it is recorded with the change)")
    user = await session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active or user.role is not Role.ADMIN:
        raise OperatorError(f"--user: {username!r} is not an active admin")
    return user


@risk_app.command("show")
@user_errors
def show_command() -> None:
    """Print the policy in force (JSON), its version, the breakers' state and the kill switch."""
    from quant_db import controls, risk

    async def read(session: AsyncSession) -> str:
        version = await risk.policy_in_force(session)
        state = await risk.risk_state(session)
        switch = await controls.kill_switch(session)
        return json.dumps(
            {
                "version": None if version is None else version.version,
                "policy": None if version is None else version.policy,
                "breakers": state.state.get("breakers"),
                "kill_switch": switch.mode,
            },
            indent=2,
        )

    typer.echo(in_session(read))


@risk_app.command("apply")
@user_errors
def apply_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="a risk policy YAML")],
    reason: Reason,
    user: AsUser,
) -> None:
    """Make the policy in FILE the one in force, as --user with --reason (versioned, audited)."""
    from quant_db import risk
    from quant_engine.risk_policy import load_risk_policy

    policy = load_risk_policy(file)  # a bad file: one line naming file, line and field

    async def change(session: AsyncSession) -> str:
        admin = await _admin(session, user, reason)
        row = await risk.apply_policy(
            session,
            user=admin,
            policy=policy.model_dump(mode="json"),
            reason=reason,
            source=str(file),
            request_id=cli_request_id(),
            via=cli_via(),
        )
        await session.commit()
        return f"risk policy version {row.version} in force (from {file}), by {admin.username}"

    typer.echo(in_session(change))


@risk_app.command("rearm")
@user_errors
def rearm_command(reason: Reason, user: AsUser) -> None:
    """Re-arm the breakers as --user with --reason: a pause or halt they set is lifted."""
    from quant_db import risk
    from quant_engine.breakers import rearmed

    async def change(session: AsyncSession) -> str:
        admin = await _admin(session, user, reason)
        before, switch = await risk.rearm(
            session,
            user=admin,
            reason=reason,
            request_id=cli_request_id(),
            via=cli_via(),
            reset=rearmed,
        )
        await session.commit()
        return f"breakers re-armed by {admin.username}; kill switch {before.value} -> {switch.mode}"

    typer.echo(in_session(change))


@risk_app.command("run")
@user_errors
def run_command(
    poll: Annotated[
        float, typer.Option(min=0.05, help="seconds between evaluations of new equity points")
    ] = 0.5,
    metrics_host: MetricsHostOption = DEFAULT_HOST,
    metrics_port: RiskMetricsPort = DEFAULT_PORTS["risk"],
) -> None:
    """Run the risk service until Ctrl-C or SIGTERM: the policy's breakers over the running
    paper sessions' equity, each mode change persisted, audited, alerted and broadcast."""
    import asyncio
    import signal

    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from quant_bus.redis_bus import RedisBus
    from quant_cli.worker_cmd import configure_json_logs
    from quant_db.embedded import redis_url
    from quant_db.heartbeats import HeartbeatBeacon
    from quant_db.migrate import migrated_url
    from quant_db.settings import get_settings
    from quant_db.urls import redacted
    from quant_risk.service import RiskService
    from quant_telemetry import keep_beating

    configure_json_logs("risk", stream="stderr")
    settings = get_settings()
    url = migrated_url(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        engine = create_async_engine(url)
        bus = RedisBus.from_url(redis_url(settings))
        service = RiskService(async_sessionmaker(engine, expire_on_commit=False), bus, poll_s=poll)
        typer.echo(f"risk service on {redacted(url)} (Ctrl-C stops)", err=True)
        metrics = start_metrics("risk", metrics_host, metrics_port)
        # the monitoring service's heartbeat (PostgreSQL) and /metrics' own
        heartbeat = HeartbeatBeacon(
            async_sessionmaker(engine, expire_on_commit=False),
            "risk",
            metrics_url=None if metrics is None else metrics.url,
        )
        heartbeat.start()
        beating = asyncio.create_task(keep_beating("risk", stop))
        try:
            await service.run(stop)
        finally:
            stop.set()
            await beating
            await heartbeat.stop()
            if metrics is not None:
                metrics.close()
            typer.echo(json.dumps(service.describe()), err=True)
            await bus.close()
            await engine.dispose()

    asyncio.run(main())
