"""Operator controls: the kill switch and strategy mode transitions, persisted and audited."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from quant_api.deps import AdminUser, CurrentUser, RequestId, SessionDep
from quant_api.errors import ApiError, conflict, error_responses, invalid
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.controls import (
    KillSwitchPublic,
    KillSwitchUpdate,
    ModeTransitionCreate,
    ModeTransitionPublic,
)
from quant_api.strategy_catalog import UNKNOWN_STRATEGY
from quant_db import controls
from quant_db.audit import record
from quant_db.schema import KillSwitchState, Strategy
from quant_db.schema.runs import Mode

ENFORCEMENT_NOTE = (
    "The state is persisted and audited now; enforcement by the execution service (refusing "
    "orders while engaged, trading in the chosen mode) comes with the trading-loop work."
)

router = APIRouter(prefix="/controls", tags=["controls"])


async def _public(session: SessionDep, state: KillSwitchState) -> KillSwitchPublic:
    return KillSwitchPublic(
        engaged=state.engaged,
        reason=state.reason,
        changed_by=await controls.changed_by(session, state),
        changed_at=state.changed_at,
    )


@router.get(
    "/kill-switch",
    summary="Whether trading is halted, since when, by whom and why",
    description=ENFORCEMENT_NOTE,
    responses=error_responses(401, 429),
)
@rate_limited(LimitScope.READS)
async def get_kill_switch(
    request: Request, response: Response, _user: CurrentUser, session: SessionDep
) -> KillSwitchPublic:
    return await _public(session, await controls.kill_switch(session))


@router.post(
    "/kill-switch",
    summary="Engage or release the kill switch (admin; a reason is required; audited)",
    description=ENFORCEMENT_NOTE,
    responses=error_responses(400, 401, 403, 422),
)
async def set_kill_switch(
    admin: AdminUser, body: KillSwitchUpdate, session: SessionDep, request_id: RequestId
) -> KillSwitchPublic:
    state = await controls.set_kill_switch(
        session,
        user=admin,
        engaged=body.engaged,
        reason=body.reason,
        request_id=request_id,
        via="api",
    )
    await session.commit()
    await session.refresh(state)
    return await _public(session, state)


MODE_POLICY = (
    "Policy: LIVE is entered only from PAPER (a strategy trades on paper before it trades money; "
    "BACKTEST to LIVE is a 409 naming `body.mode`), and a move to LIVE needs `confirm` equal to the "
    "strategy id (else a 422 naming `body.confirm`), the server half of the dashboard's approval "
    "step. Leaving LIVE, and moves between BACKTEST and PAPER, need no confirmation. A refused "
    "move changes nothing; an accepted one is audited with the reason and the user."
)


@router.post(
    "/mode-transition",
    summary="Move a strategy between BACKTEST, PAPER and LIVE (admin; reason required; audited)",
    description=f"{MODE_POLICY}\n\n{ENFORCEMENT_NOTE}",
    responses=error_responses(400, 401, 403, 409, 422),
)
async def transition_mode(
    admin: AdminUser, body: ModeTransitionCreate, session: SessionDep, request_id: RequestId
) -> ModeTransitionPublic:
    strategy = await session.get(Strategy, body.strategy_id, with_for_update=True)
    if strategy is None:
        raise invalid("body.strategy_id", UNKNOWN_STRATEGY.format(body.strategy_id))
    previous = strategy.mode
    if previous == body.mode:
        raise conflict(f"strategy {strategy.id!r} is already in {previous.value} mode")
    if body.mode is Mode.LIVE:
        if previous is not Mode.PAPER:
            raise ApiError(
                409,
                f"strategy {strategy.id!r} is in {previous.value} mode; LIVE is entered only "
                "from PAPER: move it to PAPER first",
                field="body.mode",
            )
        if body.confirm != strategy.id:
            raise invalid(
                "body.confirm",
                f"going LIVE needs confirmation: send confirm={strategy.id!r} (the strategy id)",
            )
    strategy.mode = body.mode
    reason = body.reason.strip()
    detail: dict[str, object] = {
        "before": previous.value,
        "after": body.mode.value,
        "reason": reason,
    }
    if body.mode is Mode.LIVE:
        detail["confirmed"] = True
    entry = record(
        session,
        user=admin,
        action="strategy.mode_transition",
        target_type="strategy",
        target_id=strategy.id,
        detail=detail,
        request_id=request_id,
    )
    await session.commit()
    await session.refresh(entry)
    return ModeTransitionPublic(
        strategy_id=strategy.id,
        previous_mode=previous,
        mode=body.mode,
        reason=reason,
        changed_by=admin.username,
        changed_at=entry.at,
    )
