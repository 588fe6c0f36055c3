"""The risk policy a queued backtest runs under (`backtest.risk_policy` of POST /v1/runs).

The policy is resolved when the run is queued, not when a worker picks it up: the run keeps the
policy's content (and where it came from) in its reproducibility facts, so the worker needs
neither the file nor the policy table, and a policy applied or edited meanwhile changes nothing
for a run already queued (ADR 0038, addendum).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from quant_api.errors import invalid
from quant_db import risk
from quant_domain import ConfigError
from quant_engine.risk_policy import RiskPolicy, load_risk_policy

IN_FORCE = "in_force"
"""The name that means: the version applied through PUT /v1/risk/policy (or `quant risk apply`)."""
FIELD = "body.backtest.risk_policy"
REPRO_KEY = "risk_policy"
"""Where a queued run keeps the policy for its worker: `repro.risk_policy`."""


def _files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))


def _policy_file(folder: Path, name: str) -> Path:
    file = folder / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    if not file.is_file():
        known = ", ".join(_files(folder)) or "none"
        raise invalid(
            FIELD,
            f"no risk policy {name!r}: give {IN_FORCE!r} or one of the policy files ({known})",
        )
    return file


async def chosen_policy(
    name: str | None, session: AsyncSession, folder: Path
) -> dict[str, Any] | None:
    """What the run keeps under `repro.risk_policy`: {name, version, policy}; None: no policy.

    Raises ApiError 422 naming `body.backtest.risk_policy` when there is no such policy, none is
    in force, or the file is not a valid policy (its file, line and field in the message).
    """
    if name is None:
        return None
    if name == IN_FORCE:
        row = await risk.policy_in_force(session)
        if row is None:
            raise invalid(
                FIELD,
                "no risk policy is in force: apply one (PUT /v1/risk/policy, quant risk apply) "
                "or name a file of configs/risk",
            )
        policy = RiskPolicy.model_validate(row.policy)
        return {"name": IN_FORCE, "version": row.version, "policy": policy.model_dump(mode="json")}
    file = _policy_file(folder, name)
    try:
        policy = await run_in_threadpool(load_risk_policy, file)
    except ConfigError as exc:  # named by its file name and line: the server's paths stay private
        where = file.name if exc.line is None else f"{file.name}:{exc.line}"
        what = f"{exc.field}: " if exc.field else ""
        raise invalid(
            FIELD, f"the risk policy is not valid: {where}: {what}{exc.message}"
        ) from None
    return {"name": file.name, "version": None, "policy": policy.model_dump(mode="json")}
