"""Operator controls: the kill switch and strategy mode transitions, persisted and audited."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from fastapi import APIRouter, Request, Response
from redis.exceptions import RedisError

from quant_api.deps import AdminUser, CurrentUser, RequestId, ResourcesDep, SessionDep
from quant_api.errors import ApiError, conflict, error_responses, invalid
from quant_api.live_guard import live_refusal
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.resources import AppResources
from quant_api.schemas.v1.controls import (
    KillSwitchModeUpdate,
    KillSwitchPublic,
    KillSwitchUpdate,
    ModeTransitionCreate,
    ModeTransitionPublic,
)
from quant_api.strategy_catalog import UNKNOWN_STRATEGY
from quant_bus.redis_bus import RedisBus
from quant_bus.streams import KILL_SWITCH, KillSwitchChanged
from quant_db import controls
from quant_db.audit import record
from quant_db.schema import KillSwitchState, Strategy
from quant_db.schema.identity import User
from quant_db.schema.runs import Mode
from quant_domain import KillSwitchMode

ENFORCEMENT_NOTE = (
    "Enforced by the execution service (`quant up` starts it; `quant execution run` alone): "
    "within a second of a move to PAPER the strategy gets a paper session trading the data "
    "service's feed through the paper broker; a move out of PAPER stops it and cancels its "
    "working orders. A strategy in LIVE mode trades through the account's real broker (Alpaca or "
    "Interactive Brokers, as QUANT_ACCOUNT_BROKERS names it), never the simulated one. The kill "
    "switch is obeyed by every session."
)

KILL_SWITCH_NOTE = (
    "Modes (ADR 0024): `active` lets through whatever the other risk rules allow; "
    "`halt_entries` refuses any order that opens or grows a position, while reductions and "
    "cancels pass; `reduce_only` applies the same rule, the mode a loss breaker sets; "
    "`flatten_and_halt` cancels working orders, closes every position, then refuses everything. "
    "The mode is persisted (it survives restarts) and every change is audited with the mode "
    "before and after, the reason and the admin.\n\n"
    "What it stops today: every paper session of the execution service (started by `quant "
    "up`) applies each change as soon as it is broadcast, which this endpoint does after the "
    "change commits, and reads this row again before every step, so a lost broadcast or a "
    "restart changes nothing. Backtests run with a kill-switch schedule enforce it too, and so "
    "does every live session (on Alpaca or Interactive Brokers)."
)

router = APIRouter(prefix="/controls", tags=["controls"])
log = structlog.get_logger("quant_api")


async def _public(session: SessionDep, state: KillSwitchState) -> KillSwitchPublic:
    return KillSwitchPublic(
        mode=state.mode,
        engaged=state.engaged,
        reason=state.reason,
        changed_by=await controls.changed_by(session, state),
        changed_at=state.changed_at,
    )


@router.get(
    "/kill-switch",
    summary="The kill-switch mode, since when, by whom and why",
    description=KILL_SWITCH_NOTE,
    responses=error_responses(401, 429),
)
@rate_limited(LimitScope.READS)
async def get_kill_switch(
    request: Request, response: Response, _user: CurrentUser, session: SessionDep
) -> KillSwitchPublic:
    return await _public(session, await controls.kill_switch(session))


async def _set_mode(
    session: SessionDep,
    resources: AppResources,
    admin: User,
    mode: KillSwitchMode,
    reason: str,
    request_id: str,
) -> KillSwitchPublic:
    before = KillSwitchMode((await controls.kill_switch(session)).mode)
    state = await controls.set_kill_switch_mode(
        session, user=admin, mode=mode, reason=reason, request_id=request_id, via="api"
    )
    await session.commit()
    await session.refresh(state)
    await _announce(resources, state, before, admin.username, request_id)
    return await _public(session, state)


async def _announce(
    resources: AppResources,
    state: KillSwitchState,
    before: KillSwitchMode,
    username: str,
    request_id: str,
) -> None:
    """Broadcast the change (after its commit) so running execution services apply it at once.

    Best effort: a runner also reads the persisted mode before every step, so a lost broadcast
    delays a change until the next bar, never loses it; a Redis outage is logged, not an error.
    """
    event = KillSwitchChanged(
        idempotency_key=f"kill-switch:{request_id}",
        mode=KillSwitchMode(state.mode),
        previous=before,
        changed_by=username,
        reason=state.reason,
        timestamp=datetime.now(UTC),
    )
    try:
        await RedisBus(resources.redis).broadcast(KILL_SWITCH, event)
    except RedisError as exc:
        # runners read the mode at their next bar anyway
        log.warning("kill_switch.not_broadcast", error=str(exc), mode=event.mode.value)


@router.put(
    "/kill-switch",
    summary="Set the kill-switch mode (admin; a reason is required; audited)",
    description=KILL_SWITCH_NOTE,
    responses=error_responses(400, 401, 403, 422),
)
async def set_kill_switch_mode(
    admin: AdminUser,
    body: KillSwitchModeUpdate,
    session: SessionDep,
    resources: ResourcesDep,
    request_id: RequestId,
) -> KillSwitchPublic:
    return await _set_mode(session, resources, admin, body.mode, body.reason, request_id)


@router.post(
    "/kill-switch",
    summary="Engage (halt_entries) or release (active) the kill switch (admin; reason; audited)",
    description=(
        "The engage/release form kept for older clients: `engaged: true` sets `halt_entries`, "
        f"`engaged: false` sets `active`; `PUT` chooses any mode.\n\n{KILL_SWITCH_NOTE}"
    ),
    responses=error_responses(400, 401, 403, 422),
)
async def set_kill_switch(
    admin: AdminUser,
    body: KillSwitchUpdate,
    session: SessionDep,
    resources: ResourcesDep,
    request_id: RequestId,
) -> KillSwitchPublic:
    mode = controls.ENGAGE_MODE if body.engaged else KillSwitchMode.ACTIVE
    return await _set_mode(session, resources, admin, mode, body.reason, request_id)


MODE_POLICY = (
    "Policy: LIVE is entered only from PAPER (a strategy trades on paper before it trades money; "
    "BACKTEST to LIVE is a 409 naming `body.mode`), and a move to LIVE needs `confirm` equal to the "
    "strategy id (else a 422 naming `body.confirm`), the server half of the dashboard's approval "
    "step. A move to LIVE is also refused (409, its `field` naming what is missing) unless the "
    "execution account (QUANT_EXECUTION_ACCOUNT) is on a real broker (`account.broker`), that "
    "broker's credentials are set (`account.credentials`, checked by name only), the strategy's "
    "config sets its own risk.max_position_pct, risk.max_gross_exposure and "
    "risk.max_order_notional (`strategy.config.risk.*`), and the account's reconciliation is "
    "clean (`reconciliation.state`). "
    "Leaving LIVE, and moves between BACKTEST and PAPER, need no confirmation. A refused "
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
        refusal = await live_refusal(session, strategy)
        if refusal is not None:
            raise refusal
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
