"""The kill switch: one row holding its mode, changed only together with its audit entry.

The API's `PUT /v1/controls/kill-switch` (and the older engage/release `POST`) and the
break-glass `quant kill-switch` command (for when the API or Redis is down) all change it here,
and so do the risk service's breakers (no user; `via: risk`, ADR 0038);
the risk gate of the execution service will read it here before its first order (ADR 0024).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.audit import record
from quant_db.schema import KillSwitchState, User
from quant_domain import ConfigError, KillSwitchMode

ENGAGE_MODE = KillSwitchMode.HALT_ENTRIES
"""The mode the old "engage" means: stop new exposure, let reductions out (ADR 0024)."""


async def kill_switch(session: AsyncSession, *, for_update: bool = False) -> KillSwitchState:
    """The kill switch's row (the first migration inserts it; recreated, active, if deleted)."""
    state = await session.get(KillSwitchState, 1, with_for_update=for_update)
    if state is None:
        state = KillSwitchState(id=1, mode=KillSwitchMode.ACTIVE, reason="")
        session.add(state)
        await session.flush()
        await session.refresh(state)
    return state


async def changed_by(session: AsyncSession, state: KillSwitchState) -> str | None:
    """The username of whoever changed the kill switch last (None: never changed)."""
    if state.changed_by is None:
        return None
    return await session.scalar(select(User.username).where(User.id == state.changed_by))


async def set_kill_switch_mode(
    session: AsyncSession,
    *,
    user: User | None,
    mode: KillSwitchMode,
    reason: str,
    request_id: str,
    via: str,
) -> KillSwitchState:
    """Put the kill switch in `mode` as `user`, audited with the mode and reason before and
    after, and `via` (api, cli, or risk: the risk service's breakers, with no user). The row is locked until the caller commits, so two changes
    cannot interleave; setting the mode it already has is recorded too (a new reason).

    Raises:
        ConfigError: `reason` is blank (every change says why).
    """
    why = reason.strip()
    if not why:
        raise ConfigError("say why the kill-switch mode changes (it is audited)", field="reason")
    state = await kill_switch(session, for_update=True)
    before = {"mode": KillSwitchMode(state.mode).value, "reason": state.reason}
    state.mode = mode
    state.reason = why
    state.changed_by = None if user is None else user.id
    state.changed_at = datetime.now(UTC)
    record(
        session,
        user=user,
        action="kill_switch.set_mode",
        target_type="kill_switch",
        target_id="1",
        detail={"before": before, "after": {"mode": mode.value, "reason": why}, "via": via},
        request_id=request_id,
    )
    await session.flush()
    await session.refresh(state, ["engaged"])  # derived by the database from the mode
    return state
