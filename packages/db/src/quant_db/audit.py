"""The audit trail: who changed what, from what to what, why, and in which request."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.schema import AuditEntry, User


def record(
    session: AsyncSession,
    *,
    user: User | None,
    action: str,
    target_type: str,
    target_id: str,
    detail: dict[str, Any],
    request_id: str,
) -> AuditEntry:
    """Add an audit entry to the session; it commits with the change it describes. `user` is
    who did it; None for an operator at the database's own command line (`quant users`), whose
    `detail` says so."""
    entry = AuditEntry(
        user_id=None if user is None else user.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail if user is None else {"username": user.username, **detail},
        request_id=request_id,
    )
    session.add(entry)
    return entry
