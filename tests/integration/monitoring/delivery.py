"""Shared set-up of the delivery tests: an engine on the test database, alerts, channel configs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_db.alerts import Severity
from quant_db.schema import Alert, AlertDelivery
from quant_monitoring.channel_config import ChannelsConfig, parse_channels

SECRET = "s3cret-signing-key-0123456789"


@asynccontextmanager
async def sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(url)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


def config(yaml_text: str, **env: str) -> ChannelsConfig:
    return parse_channels(yaml_text, "channels.yaml", env)


async def raise_one(
    factory: async_sessionmaker[AsyncSession], key: str | None = None, **fields: Any
) -> int:
    """Insert an alert row as any service may (no open-key check: that is raise_alert's)."""
    async with factory() as session:
        alert = Alert(
            severity=fields.pop("severity", Severity.CRITICAL).value,
            source=fields.pop("source", "risk"),
            message=fields.pop("message", "daily loss limit crossed: reduce_only"),
            dedupe_key=key,
            **fields,
        )
        session.add(alert)
        await session.commit()
        return alert.id


async def delivery_rows(factory: async_sessionmaker[AsyncSession]) -> list[AlertDelivery]:
    async with factory() as session:
        return list((await session.scalars(select(AlertDelivery).order_by(AlertDelivery.id))).all())
