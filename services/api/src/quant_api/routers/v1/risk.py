"""The risk policy in force (versioned, audited), the breakers' state, and an admin's re-arm."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from fastapi import APIRouter, Request, Response
from redis.exceptions import RedisError
from sqlalchemy import select

from quant_api.deps import AdminUser, CurrentUser, RequestId, ResourcesDep, SessionDep
from quant_api.errors import error_responses
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.risk import (
    BreakersPublic,
    ExposurePublic,
    LimitPublic,
    ModeChangePublic,
    RiskPolicyPublic,
    RiskPolicyUpdate,
    RiskPublic,
    RiskRearm,
    StrategyExposurePublic,
    TripPublic,
)
from quant_bus.redis_bus import RedisBus
from quant_bus.streams import KILL_SWITCH, KillSwitchChanged
from quant_db import controls, risk
from quant_db.schema import User
from quant_domain import KillSwitchMode
from quant_engine.breakers import BreakerState, rearmed
from quant_engine.risk_policy import RiskPolicy

RISK_NOTE = (
    "The account's risk policy (ADR 0038): account limits (max risk per trade, capital "
    "deployed, positions held) tighten every strategy's own caps when its paper session is "
    "built, and two breakers watch the account's equity: a daily loss past "
    "`daily_loss_limit` of the session's opening equity sets `reduce_only` until the next "
    "session, a drawdown past `max_drawdown` from the peak latches `flatten_and_halt` until an "
    "admin re-arms. The risk service (`quant risk run`) evaluates them on every equity point "
    "the paper sessions store; each mode change is persisted, audited, alerted and broadcast."
)

router = APIRouter(prefix="/risk", tags=["risk"])
log = structlog.get_logger("quant_api")


def _limit(
    name: str,
    limit: float,
    current: float | None,
    unit: Literal["share", "count", "money"] = "share",
) -> LimitPublic:
    breached = current is not None and current >= limit
    return LimitPublic(name=name, limit=limit, current=current, unit=unit, breached=breached)


def _limits(policy: RiskPolicy, state: BreakerState, exposure: dict[str, Any]) -> list[LimitPublic]:
    account, measured = policy.account, state.points > 0
    now = exposure["account"]
    out = [
        _limit(
            "account.max_risk_per_trade",
            account.max_risk_per_trade,
            now["largest_share_of_equity"] * account.stop_distance,
        ),
        _limit(
            "account.max_capital_deployed", account.max_capital_deployed, now["capital_deployed"]
        ),
        _limit("account.max_positions", account.max_positions, now["positions"], "count"),
        _limit(
            "account.daily_loss_limit",
            account.daily_loss_limit,
            state.session_loss() if measured else None,
        ),
        _limit(
            "account.max_drawdown", account.max_drawdown, state.drawdown() if measured else None
        ),
    ]
    for strategy_id, own in policy.strategies.items():
        book = exposure["strategies"].get(strategy_id)
        prefix = f"strategies.{strategy_id}"
        if own.budget is not None:
            spent = None if book is None else book["gross_exposure"]
            out.append(_limit(f"{prefix}.budget", float(own.budget), spent, "money"))
        if own.max_capital_deployed is not None:
            value = None if book is None else book["capital_deployed"]
            out.append(_limit(f"{prefix}.max_capital_deployed", own.max_capital_deployed, value))
        if own.max_position_pct is not None:
            value = None if book is None else book["largest_share_of_equity"]
            out.append(_limit(f"{prefix}.max_position_pct", own.max_position_pct, value))
        if own.max_positions is not None:
            value = None if book is None else book["positions"]
            out.append(_limit(f"{prefix}.max_positions", own.max_positions, value, "count"))
    return out


async def _applied_by(session: SessionDep, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return await session.scalar(select(User.username).where(User.id == user_id))


@router.get(
    "",
    summary="The risk policy in force, each limit against its value now, breakers, mode history",
    description=RISK_NOTE,
    responses=error_responses(401, 429),
)
@rate_limited(LimitScope.READS)
async def get_risk(
    request: Request, response: Response, _user: CurrentUser, session: SessionDep
) -> RiskPublic:
    version = await risk.policy_in_force(session)
    stored = (await risk.risk_state(session)).state
    state = BreakerState.from_json(stored.get("breakers", {}))
    exposure = await risk.exposure(session)
    switch = await controls.kill_switch(session)
    policy = None if version is None else RiskPolicy.model_validate(version.policy)
    return RiskPublic(
        policy=None
        if version is None or policy is None
        else RiskPolicyPublic(
            version=version.version,
            policy=policy,
            reason=version.reason,
            source=version.source,
            applied_by=await _applied_by(session, version.created_by),
            applied_at=version.created_at,
        ),
        limits=[] if policy is None else _limits(policy, state, exposure),
        breakers=BreakersPublic(
            kill_switch=KillSwitchMode(switch.mode),
            daily_loss="tripped" if state.daily_tripped else "armed",
            drawdown="latched" if state.latched else "armed",
            session_loss=state.session_loss(),
            drawdown_value=state.drawdown(),
            peak_equity=None if state.points == 0 else state.peak,
            equity=None if state.points == 0 else state.equity,
            last_point_at=None if state.at is None else datetime.fromisoformat(state.at),
            trips=[TripPublic.model_validate(t) for t in stored.get("trips", [])],
        ),
        exposure=ExposurePublic.model_validate(exposure["account"]),
        strategies={
            s: StrategyExposurePublic.model_validate(book)
            for s, book in exposure["strategies"].items()
        },
        history=[ModeChangePublic.model_validate(h) for h in await risk.mode_history(session)],
    )


@router.put(
    "/policy",
    summary="Put a new risk policy in force (admin; a reason is required; versioned, audited)",
    description=(
        f"{RISK_NOTE}\n\nThe policy is validated whole (a 422 names the field at fault, e.g. "
        "`body.policy.account.max_drawdown`); the new version is in force for the breakers' "
        "next evaluation and for every paper session built from then on. The audit entry "
        "keeps the version and policy before and after."
    ),
    responses=error_responses(400, 401, 403, 422),
)
async def put_policy(
    admin: AdminUser, body: RiskPolicyUpdate, session: SessionDep, request_id: RequestId
) -> RiskPolicyPublic:
    row = await risk.apply_policy(
        session,
        user=admin,
        policy=body.policy.model_dump(mode="json"),
        reason=body.reason,
        source="api",
        request_id=request_id,
        via="api",
    )
    await session.commit()
    return RiskPolicyPublic(
        version=row.version,
        policy=body.policy,
        reason=row.reason,
        source=row.source,
        applied_by=admin.username,
        applied_at=row.created_at,
    )


@router.post(
    "/rearm",
    summary="Re-arm the breakers (admin; reason; audited): lifts a pause or halt they set",
    description=(
        f"{RISK_NOTE}\n\nBoth breakers clear and measure afresh from the last equity; a kill "
        "switch in `reduce_only` or `flatten_and_halt` returns to `active`, which is broadcast "
        "so the paper sessions trade again from their next step."
    ),
    responses=error_responses(400, 401, 403, 422),
)
async def rearm(
    admin: AdminUser,
    body: RiskRearm,
    session: SessionDep,
    resources: ResourcesDep,
    request_id: RequestId,
) -> BreakersPublic:
    before, switch = await risk.rearm(
        session, user=admin, reason=body.reason, request_id=request_id, via="api", reset=rearmed
    )
    await session.commit()
    mode = KillSwitchMode(switch.mode)
    if mode != before:
        event = KillSwitchChanged(
            idempotency_key=f"risk-rearm:{request_id}",
            mode=mode,
            previous=before,
            changed_by=admin.username,
            reason=switch.reason,
            timestamp=datetime.now(UTC),
        )
        try:
            await RedisBus(resources.redis).broadcast(KILL_SWITCH, event)
        except RedisError as exc:  # the runners read the stored mode before every step
            log.warning("risk.rearm_not_broadcast", error=str(exc))
    state = BreakerState.from_json((await risk.risk_state(session)).state.get("breakers", {}))
    return BreakersPublic(
        kill_switch=mode,
        daily_loss="armed",
        drawdown="armed",
        session_loss=state.session_loss(),
        drawdown_value=state.drawdown(),
        peak_equity=None if state.points == 0 else state.peak,
        equity=None if state.points == 0 else state.equity,
        last_point_at=None if state.at is None else datetime.fromisoformat(state.at),
        trips=[],
    )
