"""Every /v1 router, in one place."""

from __future__ import annotations

from fastapi import APIRouter

from quant_api.routers.v1 import (
    alerts,
    analytics,
    auth,
    controls,
    health,
    metrics,
    orders,
    positions,
    prices,
    runs,
    strategies,
    symbols,
    walk_forward,
)

api_router = APIRouter(prefix="/v1")
api_router.include_router(health.router)
api_router.include_router(auth.router)
api_router.include_router(metrics.router)
api_router.include_router(strategies.router)
api_router.include_router(runs.router)
api_router.include_router(analytics.router)
api_router.include_router(walk_forward.router)
api_router.include_router(prices.router)
api_router.include_router(symbols.router)
api_router.include_router(positions.router)
api_router.include_router(orders.router)
api_router.include_router(alerts.router)
api_router.include_router(controls.router)
