"""Add rows to the stack's `alerts` table, as a service raising alerts does; print their ids.

Usage (the browser tests run it with the stack's DATABASE_URL, from stack.json's `cli.env`):
    python e2e/raise_alert.py '[{"severity": "critical", "source": "risk", "message": "..."}]'
Each alert may also name a `strategy_id`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any


async def raise_alerts(alerts: list[dict[str, Any]]) -> list[int]:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: PLC0415

    from quant_db.schema import Alert  # noqa: PLC0415

    engine = create_async_engine(os.environ["DATABASE_URL"])
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            rows = [
                Alert(
                    severity=a["severity"],
                    source=a["source"],
                    message=a["message"],
                    strategy_id=a.get("strategy_id"),
                )
                for a in alerts
            ]
            session.add_all(rows)
            await session.flush()
            return [int(row.id) for row in rows]
    finally:
        await engine.dispose()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for alert_id in asyncio.run(raise_alerts(json.loads(sys.argv[1]))):
        print(alert_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
