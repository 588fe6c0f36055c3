"""What the execution service watches on sessions trading through a real broker, and the alerts.

A broker that refuses a strategy at start, a link that drops or comes back, orders a step
stopped waiting for: each is logged and raised as a row of the alerts table (the monitoring
service delivers new rows to the channels). After a reconnect the session reconciled with the
broker on its own thread; its outcome is saved as the account's reconciliation, so
GET /v1/reconciliation shows the check that decides whether the session trades.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_db.reconciliation import save_reconciliation
from quant_db.schema import Alert
from quant_db.schema.execution import ReconciliationState as StoredState
from quant_domain.ports import LiveBroker
from quant_engine.broker_session import BrokerSession

log = logging.getLogger("quant.execution")
SOURCE = "execution"


class BrokerWatch:
    """Per strategy: the link state last seen, reconnects and unanswered orders already told."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], account: str, settle_s: float
    ) -> None:
        self._sessions = sessions
        self._account = account
        self._settle_s = settle_s
        self._links: dict[str, bool] = {}
        self._reconnects: dict[str, int] = {}
        self._unsettled: dict[str, int] = {}

    async def alert(
        self,
        severity: str,
        message: str,
        strategy_id: str | None = None,
        run_id: uuid.UUID | None = None,
    ) -> None:
        """One alert row (best effort: the log has it when PostgreSQL is away)."""
        try:
            async with self._sessions.begin() as db:
                db.add(
                    Alert(
                        severity=severity,
                        source=SOURCE,
                        message=message,
                        strategy_id=strategy_id,
                        run_id=run_id,
                    )
                )
        except (OSError, SQLAlchemyError, TimeoutError) as exc:
            log.error("could not raise the alert %r: %s", message, exc)

    async def link(self, strategy_id: str, run_id: uuid.UUID, broker: LiveBroker) -> None:
        """Compare the adapter's link with the last poll's; a change is logged and alerted."""
        up = broker.connected
        before = self._links.get(strategy_id, True)
        self._links[strategy_id] = up
        if up == before:
            return
        if up:
            message = f"{strategy_id}: the {broker.name} link is back; reconciling before trading"
            log.warning("%s", message)
            await self.alert("warning", message, strategy_id, run_id)
        else:
            message = f"{strategy_id}: the {broker.name} link is down; no order is sent"
            log.error("%s", message)
            await self.alert("critical", message, strategy_id, run_id)

    async def after_step(self, strategy_id: str, run_id: uuid.UUID, session: BrokerSession) -> None:
        """Save the reconciliation a reconnect ran; tell the orders left unanswered (once)."""
        if session.reconnects > self._reconnects.get(strategy_id, 0):
            self._reconnects[strategy_id] = session.reconnects
            check = session.loop.reconciliation
            if check is not None:
                payload = check.to_json()
                async with self._sessions.begin() as db:
                    await save_reconciliation(
                        db,
                        account=self._account,
                        state=StoredState(check.state.value),
                        diff={}
                        if not check.differences
                        else {"differences": payload["differences"]},
                        at=check.checked_at,
                        run_id=run_id,
                    )
                if check.differences:
                    message = (
                        f"{strategy_id}: after a reconnect the broker and our books differ; "
                        "every order is refused until an admin resolves it"
                    )
                    log.error("%s", message)
                    await self.alert("critical", message, strategy_id, run_id)
        seen = self._unsettled.get(strategy_id, 0)
        if len(session.unsettled) > seen:
            late = ", ".join(session.unsettled[seen:])
            self._unsettled[strategy_id] = len(session.unsettled)
            message = (
                f"{strategy_id}: the broker did not answer within {self._settle_s:.1f} s for "
                f"{late} (left as they are, never sent again)"
            )
            log.error("%s", message)
            await self.alert("warning", message, strategy_id, run_id)

    def forget(self, strategy_id: str) -> None:
        for seen in (self._links, self._reconnects, self._unsettled):
            seen.pop(strategy_id, None)
