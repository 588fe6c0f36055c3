"""The daily summary: after the exchange session closes, per strategy trading on paper or live,
its PnL, its trades, the alerts of the day and the risk state, as one `info` alert.

The summary is an alert with the key `daily_summary:<session>` so it travels through the same
queue (retries, recorded failures) and is sent once per session, whatever restarts happen.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import exchange_calendars as xcals
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db import controls
from quant_db.alerts import Severity
from quant_db.schema import Alert, EquityPoint, Run, Strategy, Trade
from quant_db.schema.runs import Mode, RunType
from quant_monitoring.deliveries import SUMMARY_PREFIX
from quant_monitoring.rules import Finding

TRADING_RUNS = (RunType.PAPER, RunType.LIVE)


@lru_cache(maxsize=4)
def _calendar(name: str) -> Any:
    with warnings.catch_warnings():
        # exchange-calendars 4.13 uses Series.values, which pandas 3.1 deprecates; not ours to fix
        warnings.simplefilter("ignore", DeprecationWarning)
        return xcals.get_calendar(name)


@dataclass(frozen=True, slots=True)
class Session:
    day: date
    open: datetime
    close: datetime


def last_closed_session(calendar: str, now: datetime, after_close: timedelta) -> Session | None:
    """The latest session whose close lies at least `after_close` before `now`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return _last_closed(_calendar(calendar), now, after_close)


def _last_closed(cal: Any, now: datetime, after_close: timedelta) -> Session | None:
    start = pd.Timestamp(now.date() - timedelta(days=10))
    end = pd.Timestamp(now.date())
    for label in reversed(list(cal.sessions_in_range(start, end))):
        close = cal.session_close(label).to_pydatetime()
        if close + after_close <= now:
            return Session(label.date(), cal.session_open(label).to_pydatetime(), close)
    return None


def market_open(calendar: str, now: datetime) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return bool(_calendar(calendar).is_open_on_minute(pd.Timestamp(now)))


async def _equity_change(session: AsyncSession, run_ids: list[Any], s: Session) -> Decimal | None:
    if not run_ids:
        return None
    points = select(EquityPoint.equity).where(
        EquityPoint.run_id.in_(run_ids), EquityPoint.ts <= s.close
    )
    before = await session.scalar(
        points.where(EquityPoint.ts < s.open).order_by(EquityPoint.ts.desc()).limit(1)
    )
    first = await session.scalar(
        points.where(EquityPoint.ts >= s.open).order_by(EquityPoint.ts).limit(1)
    )
    last = await session.scalar(points.order_by(EquityPoint.ts.desc()).limit(1))
    start = before if before is not None else first
    return None if start is None or last is None else last - start


async def summary(session: AsyncSession, s: Session) -> Finding:
    """What the summary of session `s` says."""
    state = await controls.kill_switch(session)
    strategies = (
        await session.scalars(
            select(Strategy).where(Strategy.mode.in_([Mode.PAPER, Mode.LIVE])).order_by(Strategy.id)
        )
    ).all()
    alerts = Counter(
        (strategy, severity)
        for strategy, severity in (
            await session.execute(
                select(Alert.strategy_id, Alert.severity).where(
                    Alert.ts >= s.open,
                    Alert.ts <= s.close + timedelta(hours=1),
                    ~func.coalesce(Alert.dedupe_key, "").startswith(SUMMARY_PREFIX),
                )
            )
        ).all()
    )
    rows: dict[str, dict[str, Any]] = {}
    lines = [f"Session {s.day.isoformat()}: kill switch {state.mode}"]
    for strategy in strategies:
        run_ids = list(
            (
                await session.scalars(
                    select(Run.id).where(Run.strategy_id == strategy.id, Run.type.in_(TRADING_RUNS))
                )
            ).all()
        )
        trades, realized = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(Trade.pnl), 0)).where(
                    Trade.run_id.in_(run_ids),
                    Trade.exit_time >= s.open,
                    Trade.exit_time <= s.close,
                )
            )
        ).one()
        change = await _equity_change(session, run_ids, s)
        counts = {sev: alerts[(strategy.id, sev)] for sev in ("critical", "warning", "info")}
        rows[strategy.id] = {
            "mode": str(strategy.mode),
            "trades": int(trades),
            "realized_pnl": str(realized),
            "equity_change": None if change is None else str(change),
            "alerts": counts,
        }
        pnl = "n/a" if change is None else f"{change:+.2f}"
        lines.append(
            f"{strategy.id} ({strategy.mode}): PnL {pnl}, realized {Decimal(realized):+.2f}, "
            f"{int(trades)} trades, alerts {counts['critical']} critical / "
            f"{counts['warning']} warning"
        )
    if not strategies:
        lines.append("no strategy traded on paper or live")
    account = {sev: alerts[(None, sev)] for sev in ("critical", "warning", "info")}
    lines.append(f"account alerts: {account['critical']} critical / {account['warning']} warning")
    return Finding(
        key=f"{SUMMARY_PREFIX}{s.day.isoformat()}",
        severity=Severity.INFO,
        title=f"Daily summary {s.day.isoformat()}",
        message="\n".join(lines),
        context={
            "session": s.day.isoformat(),
            "kill_switch": str(state.mode),
            "strategies": rows,
            "account_alerts": account,
        },
    )
