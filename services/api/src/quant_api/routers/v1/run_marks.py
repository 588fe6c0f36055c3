"""PATCH /v1/runs/{run_id}: a run's label, and its star as its strategy's reference run."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.deps import RequestId, SessionDep, TraderUser
from quant_api.errors import conflict, error_responses, not_found
from quant_api.schemas.v1.runs import RunPublic, RunUpdate
from quant_db.audit import record
from quant_db.schema import Run, Strategy
from quant_db.schema.runs import RunStatus, RunType

router = APIRouter(prefix="/runs", tags=["runs"])

RUN_UPDATE = "run.update"
# a headline is research: paper and live results belong to an account, not to one run
REFERENCE_TYPES = frozenset({RunType.BACKTEST, RunType.WALK_FORWARD})


async def _star(session: AsyncSession, run: Run) -> uuid.UUID | None:
    """Make `run` its strategy's reference; returns the run it replaces, if any."""
    if run.status != RunStatus.COMPLETED:
        raise conflict(
            f"run {run.id} is {run.status.value}: only a completed run has the figures a "
            "reference shows"
        )
    if run.type not in REFERENCE_TYPES:
        raise conflict(f"run {run.id} is a {run.type.value} run: only backtests and walk-forwards")
    # one writer per strategy at a time: two stars at once would both find no previous one
    await session.execute(
        select(Strategy.id).where(Strategy.id == run.strategy_id).with_for_update()
    )
    previous = await session.scalar(
        select(Run.id).where(Run.strategy_id == run.strategy_id, Run.is_reference)
    )
    if previous is not None and previous != run.id:
        # unstarred before the new one is written: the unique index allows one per strategy
        await session.execute(update(Run).where(Run.id == previous).values(is_reference=False))
    run.is_reference = True
    return previous if previous != run.id else None


@router.patch(
    "/{run_id}",
    summary="Label a run, or star it as its strategy's reference run (trader or admin; audited)",
    description=(
        "`label` sets or (null) removes the run's label. `is_reference` true makes a completed "
        "backtest or walk-forward its strategy's reference run, the one the strategy's headline "
        "shows (ADR 0018), and unstars the previous one; false unstars it. Fields left out stay. "
        "A run that is not completed, or a paper or live run, cannot be starred (409). Every "
        "change is audited with the values before and after."
    ),
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def update_run(
    run_id: uuid.UUID,
    body: RunUpdate,
    user: TraderUser,
    session: SessionDep,
    request_id: RequestId,
) -> RunPublic:
    run = await session.get(Run, run_id, with_for_update=True)
    if run is None:
        raise not_found("run", run_id)
    before: dict[str, Any] = {"label": run.label, "is_reference": run.is_reference}
    if "label" in body.model_fields_set:
        run.label = None if body.label is None else body.label.strip()
    replaced = None
    if body.is_reference is True and not run.is_reference:
        replaced = await _star(session, run)
    elif body.is_reference is False:
        run.is_reference = False
    after: dict[str, Any] = {"label": run.label, "is_reference": run.is_reference}
    if after != before:
        detail: dict[str, Any] = {"strategy_id": run.strategy_id, "before": before, "after": after}
        if replaced is not None:
            detail["unstarred"] = str(replaced)
        record(
            session,
            user=user,
            action=RUN_UPDATE,
            target_type="run",
            target_id=str(run.id),
            detail=detail,
            request_id=request_id,
        )
    await session.commit()
    return RunPublic.model_validate(run, from_attributes=True)
