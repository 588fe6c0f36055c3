"""The kill switch: one row, changed only together with its audit entry.

The API's `POST /v1/controls/kill-switch` and the break-glass `quant kill-switch` command (for
when the API or Redis is down) both change it here; the execution service will read it here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.audit import record
from quant_db.schema import KillSwitchState, User


async def kill_switch(session: AsyncSession, *, for_update: bool = False) -> KillSwitchState:
    """The kill switch's row (the first migration inserts it; recreated, released, if deleted)."""
    state = await session.get(KillSwitchState, 1, with_for_update=for_update)
    if state is None:
        state = KillSwitchState(id=1, engaged=False, reason="")
        session.add(state)
        await session.flush()
        await session.refresh(state)
    return state


async def changed_by(session: AsyncSession, state: KillSwitchState) -> str | None:
    """The username of whoever changed the kill switch last (None: never changed)."""
    if state.changed_by is None:
        return None
    return await session.scalar(select(User.username).where(User.id == state.changed_by))


async def set_kill_switch(
    session: AsyncSession,
    *,
    user: User,
    engaged: bool,
    reason: str,
    request_id: str,
    via: str,
) -> KillSwitchState:
    """Engage or release the kill switch as `user`, audited with the reason and `via` (api,
    cli). The row is locked until the caller commits, so two changes cannot interleave."""
    state = await kill_switch(session, for_update=True)
    before = {"engaged": state.engaged, "reason": state.reason}
    state.engaged = engaged
    state.reason = reason.strip()
    state.changed_by = user.id
    state.changed_at = datetime.now(UTC)
    record(
        session,
        user=user,
        action="kill_switch.engage" if engaged else "kill_switch.release",
        target_type="kill_switch",
        target_id="1",
        detail={
            "before": before,
            "after": {"engaged": engaged, "reason": state.reason},
            "via": via,
        },
        request_id=request_id,
    )
    return state
